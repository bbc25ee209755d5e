/**
 * JSON-mode clean-up ([R-JSON-MODE-3]): Gemini CLI's generateJson strips only an exact ```json fence and retries
 * anything else for ~90 s, so a fenced or prose-wrapped JSON reply is reduced to the bare JSON value.
 */

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function extractJsonText(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '' || parses(trimmed)) return trimmed === '' ? text : trimmed;
  const fence = /```[a-zA-Z0-9_-]*[ \t]*\r?\n?([\s\S]*?)\r?\n?[ \t]*```/.exec(trimmed);
  const fenced = fence?.[1]?.trim();
  if (fenced !== undefined && parses(fenced)) return fenced;
  const starts = [trimmed.indexOf('{'), trimmed.indexOf('[')].filter((index) => index >= 0);
  if (starts.length > 0) {
    const start = Math.min(...starts);
    const closer = trimmed[start] === '{' ? '}' : ']';
    for (let end = trimmed.lastIndexOf(closer); end > start; end = trimmed.lastIndexOf(closer, end - 1)) {
      const candidate = trimmed.slice(start, end + 1);
      if (parses(candidate)) return candidate;
    }
  }
  return text;
}

/** text/x.enum replies were requested as {"value": "..."}; the client wants the bare enum text. */
export function extractEnumText(text: string): string {
  const json = extractJsonText(text);
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed === 'string') return parsed;
    if (typeof parsed === 'object' && parsed !== null && 'value' in parsed) {
      const value = parsed.value;
      if (typeof value === 'string') return value;
    }
  } catch {
    // not JSON: the model answered with the bare value already
  }
  return text.trim();
}
