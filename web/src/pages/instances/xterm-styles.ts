// xterm writes its cell sizes and colours into <style> elements it creates. The console's
// Content-Security-Policy (style-src 'self') refuses inline <style>, so each such element is
// swapped for an inert stand-in whose text goes into a constructed stylesheet, which the policy
// allows: the terminal is styled and the policy stays strict.
let installed = false;

function styleStandIn(createElement: Document['createElement']): HTMLElement {
  // A <template>'s content is never rendered nor checked against the policy.
  const el = createElement.call(document, 'template');
  const sheet = new CSSStyleSheet();
  let text = '';
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  Object.defineProperty(el, 'textContent', {
    get: () => text,
    set: (value: string | null) => {
      text = value ?? '';
      sheet.replaceSync(text);
    },
  });
  const remove = el.remove.bind(el);
  el.remove = () => {
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
    remove();
  };
  return el;
}

/** Call before creating a Terminal. Only <style> elements are affected; the console makes none itself. */
export function installConstructedStyleSheets(): void {
  if (installed) return;
  installed = true;
  const createElement = document.createElement;
  document.createElement = function (this: Document, tagName: string, options?: ElementCreationOptions) {
    if (tagName.toLowerCase() === 'style') return styleStandIn(createElement);
    return createElement.call(this, tagName, options);
  } as Document['createElement'];
}
