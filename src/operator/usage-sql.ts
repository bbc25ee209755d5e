/** What the usage store (main thread) and its writer thread (usage-writer.ts) share: the insert and the messages. */

export const INSERT_SQL = `
  INSERT INTO requests (ts, request_id, method, path, model, upstream_model, provider, stream, status, error_status,
    upstream_error, duration_ms, first_chunk_ms, prompt_tokens, output_tokens, thoughts_tokens, client_closed, client, web_search)
  VALUES (@ts, @request_id, @method, @path, @model, @upstream_model, @provider, @stream, @status, @error_status,
    @upstream_error, @duration_ms, @first_chunk_ms, @prompt_tokens, @output_tokens, @thoughts_tokens, @client_closed, @client, @web_search)
`;

export interface UsageWriterData {
  path: string;
  /** One Int32 cell: the sequence number of the last batch written. */
  acknowledged: SharedArrayBuffer;
}

export interface UsageWriterMessage {
  sequence: number;
  rows: Array<Record<string, unknown>>;
}
