/** Where the app serves Scalar's standalone API reference (a local file: the page loads nothing from elsewhere). */
export const REFERENCE_SCRIPT_PATH = '/docs/api-reference.js';

/**
 * Scalar's reference, reading /api/v1/openapi.json: every operation with its parameters, bodies and
 * answers, and a client that sends requests from the browser. Without Scalar's web fonts, telemetry,
 * AI agent and MCP helpers, which would call Scalar's services.
 */
const settings = {
  url: '/api/v1/openapi.json',
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: 'never',
  hideClientButton: false,
};

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ctxvault API reference</title>
</head>
<body>
<div id="reference"></div>
<script src="${REFERENCE_SCRIPT_PATH}"></script>
<script>Scalar.createApiReference('#reference', ${JSON.stringify(settings)});</script>
</body>
</html>
`;
