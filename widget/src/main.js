// Entry point, loaded by one tag on the host page:
//   <script src="https://notes.example/widget.js" data-trial="NCT07085104" defer></script>
// document.currentScript is only set while this file first runs, so the tag
// is read here, synchronously, before anything waits.
import { startWidget } from './app.js';
import { HOST_TAG } from './ui.js';

const script = document.currentScript ?? document.querySelector('script[data-trial][src]');
const trial = script?.dataset.trial;
// The API lives where the script came from, whatever page embeds it.
const apiBase = script?.src ? new URL(script.src, location.href).origin : null;

function boot() {
  if (document.querySelector(HOST_TAG)) return; // the tag was included twice
  startWidget({ doc: document, trial, apiBase });
}

if (!trial || !apiBase) {
  console.warn('Trial Notes: the widget script needs a src and a data-trial attribute.');
} else if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', boot, { once: true });
} else {
  boot();
}
