/* logs - delivery logs: placeholder answering 501 until implemented. SPDX-License-Identifier: MIT
 */
#include "api/internal.h"

void api__logs_list(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "delivery logs are not implemented yet");
}
