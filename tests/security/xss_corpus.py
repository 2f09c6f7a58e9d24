"""Hostile strings for note bodies and highlighted quotes: a data module, no tests.

`VECTORS` (a list of str, over 100) is the whole corpus, used both as note bodies and as
quotes: by the server-side tests here (stored through the API, fetched, rendered on the
share page, parsed like a browser would) and by the browser tests (shown in the widget
and on the share page in Chromium, watching for dialogs and a global flag).
Import it as ``from security.xss_corpus import VECTORS``.

`CATEGORIES` names where each vector comes from: script and event-handler classics, SVG
and MathML, javascript:/data:/vbscript: URLs with obfuscation, CSS, mutation XSS (markup
that changes meaning when parsed twice), broken markup, template injection, and Unicode
tricks. Every vector that would run calls `alert(...)`; none contacts a real host (the
only host names are under example.com/example, reserved by RFC 2606).
"""

from __future__ import annotations

SCRIPT = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//xss.example/x.js></SCRIPT>",
    "<script>/*</script><script>*/alert(1)</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>alert(1);//<</script>",
    '"><script>alert(1)</script>',
    "'><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<script>alert(String.fromCharCode(88,83,83))</script>",
    "<script src=data:,alert(1)></script>",
    '<script type="text/plain">alert(1)</script><p>after</p>',
]

EVENT_HANDLERS = [
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<img/src=x/onerror=alert(1)>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    '<img src=x onerror="&#x61;lert(1)">',
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<select autofocus onfocus=alert(1)></select>",
    "<textarea autofocus onfocus=alert(1)></textarea>",
    '<div onmouseover="alert(1)">hover me</div>',
    "<p onclick=alert(1)>click me</p>",
    "<b onpointerenter=alert(1)>bold</b>",
    '<a href="https://ok.example.com/" onclick="alert(1)">a fine link</a>',
    "<em onanimationstart=alert(1)>emphasis</em>",
    "<form><button formaction=javascript:alert(1)>go</button></form>",
    "<isindex type=image src=1 onerror=alert(1)>",
    "<object data=javascript:alert(1)></object>",
    '<iframe srcdoc="<script>parent.alert(1)</script>"></iframe>',
    "<li onfocusin=alert(1) tabindex=0>item</li>",
]

SVG_AND_MATHML = [
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)//",
    "<svg><script>alert(1)</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    '<svg><set attributeName="href" to="javascript:alert(1)"/></svg>',
    '<svg><foreignObject><iframe srcdoc="<script>alert(1)</script>"></iframe></foreignObject></svg>',
    "<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'>"
    "<image href='1' onerror='alert(1)'/></svg>#x\"/></svg>",
    '<math href="javascript:alert(1)">x</math>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
]

URLS = [
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href="\x01javascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112'
    '&#0000116&#0000058alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="jAvAsCrIpT&colon;alert&lpar;1&rpar;">x</a>',
    '<a href="javas&#99;ript:alert(1)">x</a>',
    '<a href="javascript://%0aalert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="VBScript:MsgBox(1)">x</a>',
    '<a href="//xss.example/">protocol-relative</a>',
    '<a href="#" >fragment</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<img src="javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel=import href="data:text/html,<script>alert(1)</script>">',
    "[click me](javascript:alert(1))",
]

CSS = [
    '<style>*{background:url("javascript:alert(1)")}</style>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<div style="width:expression(alert(1))">old IE</div>',
    '<div style="behavior:url(xss.htc)">behaviour</div>',
    '<b style="-moz-binding:url(http://xss.example/xss.xml#xss)">binding</b>',
    "<style>@import 'http://xss.example/x.css';</style>",
    '<link rel=stylesheet href="javascript:alert(1)">',
    "<p style=\"background-image:url('data:image/svg+xml,<svg onload=alert(1)>')\">x</p>",
    '<div style="x:\\65 xpression(alert(1))">escaped</div>',
    '<style>li{list-style-image:url("javascript:alert(1)")}</style><ul><li>x</li></ul>',
    '<p style="}</style><script>alert(1)</script>">x</p>',
]

MUTATION = [
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    "<math><mi><table><mi><style><img src=x onerror=alert(1)>",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    '<noembed><img title="</noembed><img src=x onerror=alert(1)>"></noembed>',
    '<xmp><img title="</xmp><img src=x onerror=alert(1)>"></xmp>',
    '<iframe><img title="</iframe><img src=x onerror=alert(1)>"></iframe>',
    '<textarea><img title="</textarea><img src=x onerror=alert(1)>"></textarea>',
    "<template><img src=x onerror=alert(1)></template>",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    "<![CDATA[><img src=x onerror=alert(1)>]]>",
    '<a href="https://ok.example.com/&quot;><script>alert(1)</script>">x</a>',
    '<p title="&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;">x</p>',
    "<select><template><img src=x onerror=alert(1)></template></select>",
    '<svg><![CDATA[><image xlink:href="]]><img src=x onerror=alert(1)//"></svg>',
    "<table><td><style></td><img src=x onerror=alert(1)>",
    '<a title="a\'b" href="https://ok.example.com/">\'"><img src=x onerror=alert(1)></a>',
]

BROKEN = [
    "<img src=x onerror=alert(1)",
    '<img src="x" onerror="alert(1)',
    '<a href="javascript:alert(1)',
    "<script>alert(1)",
    "<<img src=x onerror=alert(1)>>",
    "<b <script>alert(1)</script>>x</b>",
    "<p><b><i>unclosed",
    "</p></div></body></html><script>alert(1)</script>",
    "<!DOCTYPE html><html><head><script>alert(1)</script>",
    "<p/onclick=alert(1)>x",
    '<img """><script>alert(1)</script>">',
    "<a/href=javascript:alert(1)>x</a>",
    "< script>alert(1)</ script>",
    "<script\n>alert(1)</script\n>",
    "<img\nsrc=x\nonerror=alert(1)>",
    "<img src=x onerror=alert(1)//<!--",
    '<?xml version="1.0"?><script>alert(1)</script>',
    "<img src=\x00x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    "<ul><li><ol><li>deep</ul></ol><script>alert(1)</script>",
]

TEMPLATE_INJECTION = [
    "{{7*7}}",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    "{{ config }}",
    "{% for x in range(3) %}{{x}}{% endfor %}",
    "{{''.__class__.__mro__[1].__subclasses__()}}",
    "{{constructor.constructor('alert(1)')()}}",
    "{{$on.constructor('alert(1)')()}}",
    "[[7*7]]",
    "<div v-html=\"'<img src=x onerror=alert(1)>'\"></div>",
]

UNICODE = [
    "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",
    "\u00bcscript\u00bealert(1)\u00bc/script\u00be",
    "<scr\u0131pt>alert(1)</scr\u0131pt>",
    "<\u017fcript>alert(1)</\u017fcript>",
    "<scr\u200bipt>alert(1)</scr\u200bipt>",
    '<a href="java\u200bscript:alert(1)">zero width</a>',
    '<a href="java\x00script:alert(1)">nul</a>',
    "\ufeff<script>alert(1)</script>",
    "\u202e<b>gnp.exe</b>",
    '<a href="https://example.com/\u202egnp.exe">reversed</a>',
    "\U0001f600<img src=x onerror=alert(1)>\U0001f600",
    "\u2028<script>alert(1)</script>\u2029",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&#x3c;img src=x onerror=alert(1)&#x3e;",
    "<\u0455cript>alert(1)</\u0455cript>",
    "<s\u0336cript>alert(1)</s\u0336cript>",
    # List items outside a list: shown inside the share page's own list item, a bare <li> used
    # to close it early (the HTML parser ends an open <li> through a <div>).
    "<li>a bare list item<script>alert(1)</script>",
    "</li></ol><li>out of the list</li><ol><li>",
    "<b><li>bold item</b><li onclick=alert(1)>second",
    "<p>x<li>after a paragraph</p>",
]

CATEGORIES: dict[str, list[str]] = {
    "script": SCRIPT,
    "event handlers": EVENT_HANDLERS,
    "SVG and MathML": SVG_AND_MATHML,
    "javascript:, data: and vbscript: URLs": URLS,
    "CSS": CSS,
    "mutation XSS": MUTATION,
    "broken markup": BROKEN,
    "template injection": TEMPLATE_INJECTION,
    "Unicode tricks": UNICODE,
}

VECTORS: list[str] = list(dict.fromkeys(vector for vectors in CATEGORIES.values() for vector in vectors))
