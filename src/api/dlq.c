/* dlq - the dead-letter queue: placeholder answering 501 until implemented.
 * SPDX-License-Identifier: MIT */
#include "api/internal.h"

void api__dlq_list(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "the dead-letter queue are not implemented yet");
}

void api__dlq_replay(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "the dead-letter queue are not implemented yet");
}
