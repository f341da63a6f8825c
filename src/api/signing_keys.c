/* signing_keys - endpoint signing keys: placeholder answering 501 until implemented.
 * SPDX-License-Identifier: MIT */
#include "api/internal.h"

void api__signing_keys_create(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "endpoint signing keys are not implemented yet");
}

void api__signing_keys_list(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "endpoint signing keys are not implemented yet");
}

void api__signing_keys_delete(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "endpoint signing keys are not implemented yet");
}
