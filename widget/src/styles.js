// @ts-check
// The first load's stylesheet: the launcher and the toasts, drawn before the reader does
// anything. "Add note" is styled by the selection observer that shows it (selection.js). The
// panel's and the dialogs' rules (panel-styles.js) are fetched when the panel or a dialog first
// opens, the dialogs' own (dialog-styles.js) with them. Each is adopted as a constructed sheet,
// never a <style> element or style attribute, so a strict host CSP (no 'unsafe-inline') doesn't
// block it. `all:initial` keeps the page's styles out.

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
.launcher{position:fixed;inset-inline-end:16px;bottom:16px;z-index:2147483000;border:0;border-radius:999px;background:#1d4ed8;color:#fff;padding:10px 18px;box-shadow:0 2px 10px rgba(0,0,0,.3)}
.count{display:inline-block;margin-inline-start:8px;min-width:1.5em;border-radius:999px;background:#fff;color:#1d4ed8;font-size:.85em;font-weight:600;text-align:center}
.alert{margin:12px 0;padding:8px 12px;border:1px solid #cf222e;border-radius:6px;background:#fff1f0;color:#82071e}
.alert:empty{display:none}
.toast{position:fixed;left:16px;right:16px;bottom:84px;margin:auto;max-width:544px;z-index:2147483001;display:flex;flex-wrap:wrap;gap:8px;align-items:center;background:#fff;border:1px solid #cf222e;border-radius:8px;padding:10px 12px;box-shadow:0 4px 16px rgba(0,0,0,.2)}
.toast .alert{flex:1 1 100%;margin:0;border:0;padding:0;background:none}
`;
