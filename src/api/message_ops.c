/* message_ops - message operations: placeholder answering 501 until implemented.
 * SPDX-License-Identifier: MIT */
#include "api/internal.h"

void api__messages_replay(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "message operations are not implemented yet");
}

void api__messages_retry_now(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "message operations are not implemented yet");
}

void api__messages_cancel(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "message operations are not implemented yet");
}

void api__messages_replay_all(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "message operations are not implemented yet");
}

void api__messages_replay_batch(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "message operations are not implemented yet");
}

void api__messages_delete(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "message operations are not implemented yet");
}

void api__messages_delete_batch(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "message operations are not implemented yet");
}

void api__messages_delete_all(struct api_request *r)
{
    api__respond_error(r, 501, "NOT_IMPLEMENTED", "message operations are not implemented yet");
}
