// The trial index marks the trials that hold my notes ("You have 3 notes on this trial"). Progressive enhancement:
// it reads the notebook token the widget keeps in this site's localStorage (widget/src/token-store.js;
// the widget's service is this origin) and sends it in the Authorization header only, never in a URL.
// The page's words come from the template (#my-notes-mark), translated like the rest of the page:
// one sentence per plural category of the page's language (data-words-one, data-words-few, ...),
// chosen by the count with Intl.PluralRules, the CLDR rules the server's gettext forms follow.
(function () {
  "use strict";
  var template = document.getElementById("my-notes-mark");
  var cards = document.querySelectorAll(".trial-card[data-nct]");
  if (!template || !cards.length || !window.fetch || !window.Intl || !Intl.PluralRules) return;
  var token = null;
  try {
    token = window.localStorage.getItem("trial-notes:token:" + location.origin);
  } catch (err) {
    return; // storage blocked: no notebook here
  }
  if (!token) return;
  var byTrial = {};
  cards.forEach(function (card) {
    byTrial[card.getAttribute("data-nct")] = card;
  });
  var number = inLanguage(Intl.NumberFormat);
  var plurals = inLanguage(Intl.PluralRules);

  // The page's language. A lang Intl does not take throws a RangeError ("ar_EG", "en-"): then its
  // language alone ("ar"), else the browser's, so the marks still come ("other" is every
  // language's form when a category has none).
  function inLanguage(Format) {
    var lang = document.documentElement.lang || "";
    var tags = [lang, lang.split(/[^A-Za-z]/)[0]];
    for (var i = 0; i < tags.length; i++) {
      try {
        return new Format(tags[i] || undefined);
      } catch (err) {
        // not a language tag: try the next
      }
    }
    return new Format();
  }

  function words(count) {
    return (
      template.getAttribute("data-words-" + plurals.select(count)) || template.getAttribute("data-words-other") || ""
    );
  }

  function mark(trial) {
    var card = byTrial[trial.id];
    if (!card || card.querySelector(".my-notes")) return;
    var line = document.createElement("p");
    line.className = "my-notes";
    line.textContent = words(trial.note_count).replace("{count}", number.format(trial.note_count));
    card.appendChild(line);
  }

  // Every page of the trials holding my notes (a notebook holds at most a few thousand notes).
  var seen = {};
  function walk(cursor) {
    var url = "/api/v1/notebooks/me/trials?limit=100" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    return fetch(url, {
      headers: { Authorization: "Bearer " + token, Accept: "application/json" },
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    })
      .then(function (response) {
        return response.ok ? response.json() : null; // a token the service refused: no marks
      })
      .then(function (page) {
        if (!page) return;
        page.trials.forEach(mark);
        if (page.next && !seen[page.next]) {
          seen[page.next] = true;
          return walk(page.next);
        }
      });
  }
  walk(null).catch(function () {
    // offline or the service is down: the index works as it is, unmarked
  });
})();
