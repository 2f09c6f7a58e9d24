// @ts-check
// The panel's rules and what every dialog shares (headings, fields, rows, lists, colour
// chips), adopted into the shadow root the first time the panel or a dialog opens (ui.js):
// a visit that only reads never fetches them. The palette comes from the caller (ui.js), so
// that this module imports nothing and shares no chunk with the first load.

/** The rules, with a swatch class per colour of `paint` (highlights.js's PAINT). */
export const panelCss = (/** @type {Readonly<Record<string, string>>} */ paint) => `
dialog{color:inherit;background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:20px;width:min(544px,calc(100vw - 24px));max-height:calc(100vh - 24px);overflow:auto;box-shadow:0 12px 32px rgba(0,0,0,.3)}
dialog::backdrop{background:rgba(15,23,42,.35)}
.panel{position:fixed;inset-block:0;inset-inline:auto 0;margin:0;width:min(400px,100vw);height:100%;max-height:none;border-radius:0;border-width:0;border-inline-start-width:1px;z-index:2147483002}
.top{display:flex;justify-content:space-between;align-items:center;gap:8px}
h2{font-size:1.2em;margin:0}
h2:focus,h3:focus{outline:none}
h3{font-size:1em;margin:20px 0 6px}
p{margin:8px 0}
label{display:block;font-weight:600;margin:14px 0 4px}
textarea,input,select{font:inherit;color:inherit;background:#fff;width:100%;padding:8px;border:1px solid #8c959f;border-radius:6px}
input[type=checkbox],input[type=radio]{width:auto;margin:0;margin-inline-end:8px;accent-color:#1d4ed8}
.sw{display:inline-block;width:16px;height:16px;flex:none;border-radius:4px;border:1px solid rgba(0,0,0,.4);margin-inline-end:6px}
${Object.entries(paint)
  .map(([name, colour]) => `.c-${name}{background:${colour}}`)
  .join('')}
.chip{display:inline-flex;align-items:center;font-size:.85em;color:#57606a;margin:0}
.row{display:flex;flex-wrap:wrap;gap:8px;margin-top:16px}
ol,ul{list-style:none;padding:0;margin:0}
.notes li{padding:8px 0;border-bottom:1px solid #eaeef2}
.notes button{display:block;width:100%;text-align:start;border:0;padding:4px 6px;background:none;color:#1d4ed8;text-decoration:underline;text-underline-offset:2px}
.notes button:hover{background:#f0f3f6}
.notes p{margin:4px 6px;color:#1f2328}
.notes .meta{display:flex;align-items:center;justify-content:space-between;margin:2px 6px}
.notes button.open{display:inline-block;width:auto;font-size:.85em;padding:2px 8px;min-height:0}
.notes button[aria-current=true]{background:#e8effd}
.muted{color:#57606a;font-size:.9em}
.field{display:flex;gap:8px}
.field input{flex:1}
.key{border-top:1px solid #d0d7de;margin-top:20px}
.warn{border-inline-start:4px solid #d4a72c;padding-inline-start:8px}
`;
