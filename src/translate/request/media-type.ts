/**
 * The media type of a `fileData` part (issue 11): its `mimeType` when given, else inferred from the URI — a known
 * video host, then the file extension. Undefined when nothing tells; such a file is never guessed to be an image
 * (the official JS quickstart sends a YouTube URL without a mimeType). Pure.
 */

/** Hosts whose page URLs are videos (Gemini accepts YouTube links as video input). */
const VIDEO_HOSTS: readonly RegExp[] = [/(^|\.)youtube\.com$/i, /^youtu\.be$/i, /(^|\.)youtube-nocookie\.com$/i];

const BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  bmp: 'image/bmp',
  pdf: 'application/pdf',
  json: 'application/json',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  html: 'text/html',
  htm: 'text/html',
  xml: 'text/xml',
  mp4: 'video/mp4',
  mpeg: 'video/mpeg',
  mpg: 'video/mpeg',
  mov: 'video/quicktime',
  avi: 'video/x-msvideo',
  webm: 'video/webm',
  wmv: 'video/x-ms-wmv',
  flv: 'video/x-flv',
  '3gp': 'video/3gpp',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  aac: 'audio/aac',
  ogg: 'audio/ogg',
  flac: 'audio/flac',
  aiff: 'audio/aiff',
  m4a: 'audio/mp4',
};

function parsedUrl(fileUri: string): URL | undefined {
  try {
    return new URL(fileUri);
  } catch {
    return undefined;
  }
}

export function fileMediaType(fileUri: string, mimeType: string | undefined): string | undefined {
  if (mimeType !== undefined && mimeType !== '') return mimeType.toLowerCase();
  const url = parsedUrl(fileUri);
  if (url !== undefined && VIDEO_HOSTS.some((host) => host.test(url.hostname))) return 'video/*';
  const path = url === undefined ? (fileUri.split(/[?#]/)[0] ?? '') : url.pathname;
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : BY_EXTENSION[extension];
}
