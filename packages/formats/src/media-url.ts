import type { MediaKind, Part } from './normalized.ts';

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),/;

/** A media part from a URL: a `data:…;base64,` URL carries its bytes, any other URL only points at them. */
export function mediaFromUrl(url: string, media: MediaKind, path: string, detail?: string): Part {
  const data = DATA_URL.exec(url);
  const base = { type: 'media', path, media, ...(detail !== undefined && { detail }) } as const;
  if (!data) return { ...base, url };
  return {
    ...base,
    ...(data[1] && { mediaType: data[1] }),
    ...(data[2]?.includes(';base64') ? { base64: url.slice(data[0].length) } : { url }),
  };
}

/** A data URL for inline bytes. */
export function dataUrl(mediaType: string, base64: string): string {
  return `data:${mediaType};base64,${base64}`;
}

/** An AI SDK `image`/`data` string: a URL, a data URL or bare base64. */
export function mediaFromData(data: string, media: MediaKind, path: string, mediaType?: string): Part {
  if (/^(data:|[a-z][a-z0-9+.-]*:\/\/)/i.test(data)) {
    const part = mediaFromUrl(data, media, path);
    return mediaType && part.type === 'media' && !part.mediaType ? { ...part, mediaType } : part;
  }
  return { type: 'media', path, media, base64: data, ...(mediaType && { mediaType }) };
}

export function mediaKindOf(mediaType: string | undefined): MediaKind {
  if (mediaType?.startsWith('image/')) return 'image';
  if (mediaType?.startsWith('audio/')) return 'audio';
  return 'file';
}
