// @ts-check
// QR codes for the recovery sheet and link codes, drawn by qrcode-generator (Kazuhiko Arase's
// encoder) as one SVG path built with DOM calls: no markup strings, and no image URL a host's
// img-src could block. Imported only by the on-demand modules, never in the first load.
import qrcode from 'qrcode-generator';

const SVG = 'http://www.w3.org/2000/svg';

/**
 * The dark modules of `text`'s QR code (error correction M, the smallest version that fits).
 * @param {string} text
 * @returns {boolean[][]}
 */
export function qrModules(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  return Array.from({ length: n }, (_, row) => Array.from({ length: n }, (_, col) => qr.isDark(row, col)));
}

/**
 * An <svg> of `text`'s QR code with a 4-module quiet zone, `label` as its accessible name.
 * @param {Document} doc
 * @param {string} text
 * @param {string} label
 */
export function qrSvg(doc, text, label) {
  const modules = qrModules(text);
  const size = modules.length + 8;
  const svg = doc.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('class', 'qr');
  svg.setAttribute('shape-rendering', 'crispEdges');
  const back = doc.createElementNS(SVG, 'rect');
  back.setAttribute('width', String(size));
  back.setAttribute('height', String(size));
  back.setAttribute('fill', '#fff');
  let d = '';
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d += `M${x + 4} ${y + 4}h1v1h-1z`;
    }),
  );
  const path = doc.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  svg.append(back, path);
  return svg;
}
