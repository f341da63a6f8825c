/* metrics - metrics and timeseries: placeholder answering 501 until implemented.
 * SPDX-License-Identifier: MIT */
#include "api/internal.h"

void api__metrics_summary(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "metrics and timeseries are not implemented yet");
}

void api__metrics_timeseries(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "metrics and timeseries are not implemented yet");
}
