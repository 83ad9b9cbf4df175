import { secureHeaders } from 'hono/secure-headers';

/**
 * Headers for the pages a browser renders (/docs, the dashboard): no framing, no sniffing, no
 * referrer, and scripts, styles and requests only from this origin (the pages' own inline bootstrap
 * scripts and styles included).
 */
export function pageSecurityHeaders() {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
      formAction: ["'self'"],
      baseUri: ["'self'"],
    },
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    crossOriginEmbedderPolicy: false,
  });
}
