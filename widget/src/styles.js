// @ts-check
// The shadow root's stylesheet: what the launcher, the panel and the toasts need. The
// dialogs bring their own rules (dialog-styles.js) when they load. Both are adopted as
// constructed sheets, never a <style> element or style attribute, so a strict host CSP (no
// 'unsafe-inline') doesn't block them. `all:initial` keeps the page's styles out.
import { PAINT } from './highlights.js';

const swatches = Object.entries(PAINT)
  .map(([name, paint]) => `.c-${name}{background:${paint}}`)
  .join('');

export const CSS = `
:host{all:initial;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328}
*{box-sizing:border-box}
[hidden]{display:none!important}
.sr{position:fixed;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
button{font:inherit;color:inherit;cursor:pointer;-webkit-tap-highlight-color:transparent;border:1px solid #8c959f;background:#fff;border-radius:8px;padding:6px 14px;min-height:44px}
button:hover{background:#f0f3f6}
button.primary{background:#1d4ed8;border-color:#1d4ed8;color:#fff}
button.primary:hover{background:#1e40af;border-color:#1e40af}
button[aria-busy=true]{opacity:.6;cursor:progress}
@media (pointer:fine){button{min-height:34px}}
:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:999px;background:#1d4ed8;color:#fff;padding:10px 18px;box-shadow:0 2px 10px rgba(0,0,0,.3)}
.launcher.raised{bottom:84px}
.count{display:inline-block;margin-left:8px;min-width:1.5em;border-radius:999px;background:#fff;color:#1d4ed8;font-size:.85em;font-weight:600;text-align:center}
.adder{position:fixed;z-index:2147483001;display:flex;align-items:center;gap:8px}
.adder button{box-shadow:0 2px 10px rgba(0,0,0,.3)}
.adder kbd{font:inherit;font-size:.8em;border:1px solid;border-radius:4px;padding:0 5px;margin-left:8px}
.adder.bar{left:0!important;right:0;bottom:0;top:auto!important;justify-content:center;padding:12px 16px calc(12px + env(safe-area-inset-bottom));background:#fff;border-top:1px solid #d0d7de;box-shadow:0 -2px 10px rgba(0,0,0,.15)}
.adder.bar button{flex:1;max-width:480px;min-height:48px;box-shadow:none}
.adder.bar kbd{display:none}
dialog{color:inherit;background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:20px;width:min(34rem,calc(100vw - 24px));max-height:calc(100vh - 24px);overflow:auto;box-shadow:0 12px 32px rgba(0,0,0,.3)}
dialog::backdrop{background:rgba(15,23,42,.35)}
.panel{position:fixed;inset:0 0 0 auto;margin:0;width:min(400px,100vw);height:100%;max-height:none;border-radius:0;border-width:0 0 0 1px;z-index:2147483002}
.top{display:flex;justify-content:space-between;align-items:center;gap:8px}
h2{font-size:1.2em;margin:0}
h2:focus,h3:focus{outline:none}
h3{font-size:1em;margin:20px 0 6px}
p{margin:8px 0}
label{display:block;font-weight:600;margin:14px 0 4px}
textarea,input,select{font:inherit;color:inherit;background:#fff;width:100%;padding:8px;border:1px solid #8c959f;border-radius:6px}
input[type=checkbox],input[type=radio]{width:auto;margin:0 8px 0 0;accent-color:#1d4ed8}
.sw{display:inline-block;width:16px;height:16px;flex:none;border-radius:4px;border:1px solid rgba(0,0,0,.4);margin-right:6px}
${swatches}
.chip{display:inline-flex;align-items:center;font-size:.85em;color:#57606a;margin:0}
.row{display:flex;flex-wrap:wrap;gap:8px;margin-top:16px}
.alert{margin:12px 0;padding:8px 12px;border:1px solid #cf222e;border-radius:6px;background:#fff1f0;color:#82071e}
.alert:empty{display:none}
.toast{position:fixed;left:16px;right:16px;bottom:84px;margin:auto;max-width:34rem;z-index:2147483001;display:flex;flex-wrap:wrap;gap:8px;align-items:center;background:#fff;border:1px solid #cf222e;border-radius:8px;padding:10px 12px;box-shadow:0 4px 16px rgba(0,0,0,.2)}
.toast .alert{flex:1 1 100%;margin:0;border:0;padding:0;background:none}
ol,ul{list-style:none;padding:0;margin:0}
.notes li{padding:8px 0;border-bottom:1px solid #eaeef2}
.notes button{display:block;width:100%;text-align:left;border:0;padding:4px 6px;background:none;color:#1d4ed8;text-decoration:underline;text-underline-offset:2px}
.notes button:hover{background:#f0f3f6}
.notes p{margin:4px 6px;color:#1f2328}
.notes .meta{display:flex;align-items:center;justify-content:space-between;margin:2px 6px}
.notes button.open{display:inline-block;width:auto;font-size:.85em;padding:2px 8px;min-height:0}
.notes button[aria-current=true]{background:#e8effd}
.muted{color:#57606a;font-size:.9em}
.field{display:flex;gap:8px}
.field input{flex:1}
.key{border-top:1px solid #d0d7de;margin-top:20px}
.warn{border-left:4px solid #d4a72c;padding-left:8px}
`;
