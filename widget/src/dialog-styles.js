// @ts-check
// The dialogs' own rules, adopted beside the first load's sheet (styles.js) when the
// dialogs module loads: most visits only read, and never pay for them.

export const DIALOG_CSS = `
blockquote{margin:12px 0;padding:8px 12px;border-inline-start:4px solid #d4a72c;background:#f6f8fa;max-height:8.5em;overflow:auto;white-space:pre-wrap}
fieldset{border:0;padding:0;margin:14px 0 0;min-width:0}
legend{font-weight:600;padding:0;margin-bottom:4px}
label.opt{display:flex;align-items:center;font-weight:400;margin:2px 0;min-height:32px}
.colors label.opt{display:inline-flex;margin-inline-end:14px}
.choices{list-style:none;margin:0 0 12px;padding:0;display:grid;gap:8px}
.choices button{display:flex;align-items:flex-start;gap:4px;width:100%;text-align:start}
dialog .chip{margin:0 0 8px}
.cnt{margin:0;text-align:end;text-wrap:balance}
[aria-invalid=true]{border-color:#cf222e}
[aria-invalid=true]+.cnt{color:#82071e;font-weight:600}
.body{margin:12px 0;overflow-wrap:anywhere}
.body p{margin:0 0 8px}
.body ul,.body ol{padding-inline-start:1.4em}
.body ul{list-style:disc}
.body ol{list-style:decimal}
.body a{color:#1d4ed8}
.note-box{border:1px solid #d4a72c;background:#fffbea;border-radius:6px;padding:8px 12px}
`;
