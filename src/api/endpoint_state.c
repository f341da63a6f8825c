/* endpoint_state - endpoint pause and resume: placeholder answering 501 until implemented.
 * SPDX-License-Identifier: MIT */
#include "api/internal.h"

void api__endpoints_pause(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED",
                       "endpoint pause and resume are not implemented yet");
}

void api__endpoints_resume(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED",
                       "endpoint pause and resume are not implemented yet");
}
