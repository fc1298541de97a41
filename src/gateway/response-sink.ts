import type { ServerResponse } from "node:http";
import type { SinkWrite } from "../edge/stream-writer.js";

/**
 * An HTTP response as a sink of the byte-bounded stream writer: Node calls a write's callback once its bytes are
 * handed to the socket. (On a destroyed socket it may never call it: the stream's signal, which aborts when the
 * response closes, ends the writer's wait instead.)
 */
export function responseSink(res: ServerResponse): SinkWrite<string | Buffer> {
  return (data, flushed) => {
    res.write(data, flushed);
  };
}
