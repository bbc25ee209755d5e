/**
 * The parts of one user turn → Chat Completions content (docs/gemini-contract.md §3.3): text, images as `image_url`,
 * and a short note for every medium the upstream cannot take. Pure.
 */
import type { ModelCapabilities } from '../../providers/profile.js';
import type { GeminiPart } from '../gemini-types.js';
import type { OpenAIContentPart } from '../openai-types.js';
import type { TranslationWarning } from '../warnings.js';
import { fileMediaType } from './media-type.js';

function imageAllowed(capabilities: ModelCapabilities, mimeType: string, isHttp: boolean): boolean {
  if (capabilities.images === 'none') return false;
  if (isHttp && capabilities.images !== 'data-url+http') return false;
  const allowList = capabilities.imageMimeTypes;
  return allowList === undefined || allowList.includes(mimeType.toLowerCase());
}

/** Converts the media and text parts of one user turn. Returns a plain string when there is no media. */
export function userContent(
  parts: GeminiPart[],
  capabilities: ModelCapabilities,
  warnings: TranslationWarning[],
): string | OpenAIContentPart[] | undefined {
  const items: OpenAIContentPart[] = [];
  let hasMedia = false;
  // Separate parts become separate lines: Gemini CLI sends its session context and the prompt as two parts.
  const pushText = (text: string): void => {
    const last = items[items.length - 1];
    if (last !== undefined && last.type === 'text') last.text += `\n${text}`;
    else items.push({ type: 'text', text });
  };
  for (const part of parts) {
    if (part.thought === true) continue;
    if (part.text !== undefined && part.text !== '') pushText(part.text);
    if (part.inlineData !== undefined) {
      const { mimeType, data } = part.inlineData;
      if (mimeType.startsWith('image/') && imageAllowed(capabilities, mimeType, false)) {
        items.push({ type: 'image_url', image_url: { url: `data:${mimeType};base64,${data}` } });
        hasMedia = true;
      } else {
        // A rejected image stays in the history and fails every later turn (DeepSeek, llama.cpp): a note instead.
        warnings.push({
          kind: 'replaced',
          field: 'contents.parts.inlineData',
          detail: `${mimeType} is not supported by the upstream model; replaced by a note`,
        });
        pushText(`[${mimeType} attachment omitted: not supported by the upstream model]`);
      }
    }
    if (part.fileData !== undefined) {
      const { fileUri } = part.fileData;
      const mediaType = fileMediaType(fileUri, part.fileData.mimeType);
      const isHttp = /^https?:\/\//i.test(fileUri);
      if (isHttp && mediaType?.startsWith('image/') === true && imageAllowed(capabilities, mediaType, true)) {
        items.push({ type: 'image_url', image_url: { url: fileUri } });
        hasMedia = true;
      } else {
        warnings.push({
          kind: 'replaced',
          field: 'contents.parts.fileData',
          detail: `${fileUri} (${mediaType ?? 'unknown type'}) cannot be passed to the upstream; replaced by a note`,
        });
        pushText(
          `[file ${fileUri}${mediaType === undefined ? '' : ` (${mediaType})`} omitted: not accessible to the upstream model]`,
        );
      }
    }
    if (part.executableCode !== undefined) {
      pushText(`\`\`\`${part.executableCode.language?.toLowerCase() ?? ''}\n${part.executableCode.code}\n\`\`\``);
    }
    if (part.codeExecutionResult !== undefined) {
      pushText(
        `Code execution result (${part.codeExecutionResult.outcome ?? 'OUTCOME_OK'}):\n${part.codeExecutionResult.output ?? ''}`,
      );
    }
  }
  if (items.length === 0) return undefined;
  if (!hasMedia) return items.map((item) => (item.type === 'text' ? item.text : '')).join('\n');
  return items;
}
