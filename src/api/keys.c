/* keys - API keys (/v1/api-keys): placeholder answering 501 until implemented.
 * SPDX-License-Identifier: MIT */
#include "api/internal.h"

void api__keys_list(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED",
                       "API keys (/v1/api-keys) are not implemented yet");
}

void api__keys_create(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED",
                       "API keys (/v1/api-keys) are not implemented yet");
}

void api__keys_delete(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED",
                       "API keys (/v1/api-keys) are not implemented yet");
}
