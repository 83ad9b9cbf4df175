/**
 * The interactive reference at `/docs`: one self-contained page (no CDN, no build step) that reads
 * the OpenAPI document and lists every operation with its parameters and body schema, and a form
 * that sends the request from the browser and shows the answer.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ctxvault API reference</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2433; background: #f6f7f9; }
  body { margin: 0 auto; max-width: 1100px; padding: 1.5rem; }
  h1 { margin: 0 0 .25rem; } .intro { color: #555; margin: 0 0 1.5rem; }
  h2 { margin: 2rem 0 .5rem; text-transform: capitalize; }
  details.op { background: #fff; border: 1px solid #d9dde5; border-radius: 6px; margin: .4rem 0; }
  details details > summary { cursor: pointer; color: #2f5fb3; font-family: monospace; }
  details.op > summary { cursor: pointer; padding: .6rem .8rem; display: flex; gap: .8rem; align-items: center; }
  .method { font: 600 .8rem monospace; text-transform: uppercase; color: #fff; border-radius: 4px; padding: .2rem .5rem; min-width: 3.5rem; text-align: center; }
  .get { background: #2f7bd8; } .post { background: #1f9d55; } .put { background: #c98000; } .delete { background: #cc3b3b; }
  .path { font-family: monospace; } .summary { color: #555; }
  .body { padding: 0 1rem 1rem; border-top: 1px solid #eef0f4; }
  table { border-collapse: collapse; width: 100%; margin: .5rem 0; } td, th { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eef0f4; vertical-align: top; }
  pre { background: #f3f4f7; padding: .6rem; border-radius: 4px; overflow: auto; max-height: 24rem; font-size: .8rem; }
  input, textarea { font-family: monospace; width: 100%; box-sizing: border-box; padding: .3rem; }
  textarea { min-height: 8rem; } button { margin-top: .5rem; padding: .4rem 1rem; cursor: pointer; }
</style>
</head>
<body>
<h1>ctxvault API</h1>
<p class="intro" id="intro">Loading <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> …</p>
<label>Authorization header for admin calls <input id="auth" placeholder="Bearer &lt;admin.token&gt;"></label>
<main id="ops"></main>
<script>
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) k === 'class' ? (node.className = v) : node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
};
const resolve = (doc, schema) => schema && schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;

function operationView(doc, path, method, op) {
  const params = op.parameters || [];
  const inputs = {};
  const body = el('div', { class: 'body' });
  body.append(el('p', {}, op.operationId));
  if (params.length) {
    const table = el('table', {}, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'), el('th', {}, 'schema'), el('th', {}, 'value')));
    for (const p of params) {
      inputs[p.name] = el('input', { placeholder: p.required ? 'required' : '' });
      table.append(el('tr', {}, el('td', {}, p.name), el('td', {}, p.in), el('td', {}, el('code', {}, JSON.stringify(p.schema))), el('td', {}, inputs[p.name])));
    }
    body.append(table);
  }
  let bodyInput;
  if (op.requestBody) {
    const schema = resolve(doc, op.requestBody.content['application/json'].schema);
    body.append(el('p', {}, 'JSON body (' + op.requestBody.content['application/json'].schema.$ref.split('/').pop() + ')'), el('pre', {}, JSON.stringify(schema, null, 2)));
    const ndjson = op.requestBody.content['application/x-ndjson'];
    if (ndjson) body.append(el('p', {}, 'or application/x-ndjson: ' + ndjson.schema.description));
    bodyInput = el('textarea', { 'aria-label': 'request body' }, '{}');
    body.append(bodyInput);
  }
  const schemaOf = (r) => {
    const ref = r.content && r.content['application/json'].schema;
    if (!ref) return '';
    return el('details', {}, el('summary', {}, ref.$ref.split('/').pop()), el('pre', {}, JSON.stringify(resolve(doc, ref), null, 2)));
  };
  const responses = el('table', {}, ...Object.entries(op.responses).map(([status, r]) => el('tr', {}, el('td', {}, status), el('td', {}, r.description, schemaOf(r)))));
  body.append(el('p', {}, 'Responses'), responses);
  const out = el('pre', {}, '');
  const send = el('button', { type: 'button' }, 'Send');
  send.addEventListener('click', async () => {
    let url = path;
    const query = new URLSearchParams();
    const headers = {};
    for (const p of params) {
      const value = inputs[p.name].value;
      if (!value) continue;
      if (p.in === 'path') url = url.replace('{' + p.name + '}', encodeURIComponent(value));
      else if (p.in === 'query') query.set(p.name, value);
      else headers[p.name] = value;
    }
    const auth = document.getElementById('auth').value;
    if (auth && op.security) headers.authorization = auth;
    if (bodyInput) headers['content-type'] = 'application/json';
    const res = await fetch(url + (query.size ? '?' + query : ''), { method: method.toUpperCase(), headers, body: bodyInput ? bodyInput.value : undefined });
    const text = await res.text();
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch {}
    out.textContent = res.status + ' ' + res.statusText + '\\n\\n' + shown;
  });
  body.append(send, out);
  return el('details', { class: 'op', id: op.operationId },
    el('summary', {}, el('span', { class: 'method ' + method }, method), el('span', { class: 'path' }, path), el('span', { class: 'summary' }, op.summary)),
    body);
}

fetch('/api/v1/openapi.json').then((r) => r.json()).then((doc) => {
  document.getElementById('intro').textContent = doc.info.description + ' (OpenAPI ' + doc.openapi + ', /api/v1/openapi.json)';
  const byTag = {};
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) (byTag[op.tags[0]] ??= []).push(operationView(doc, path, method, op));
  }
  const main = document.getElementById('ops');
  for (const [tag, views] of Object.entries(byTag)) main.append(el('h2', {}, tag), ...views);
});
</script>
</body>
</html>
`;
