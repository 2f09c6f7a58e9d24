// The trial index marks the trials that hold my notes ("Your notes: 3"). Progressive enhancement:
// it reads the notebook token the widget keeps in this site's localStorage (widget/src/token-store.js;
// the widget's service is this origin) and sends it in the Authorization header only, never in a URL.
// The page's words come from the template (#my-notes-mark), translated like the rest of the page.
(function () {
  "use strict";
  var template = document.getElementById("my-notes-mark");
  var cards = document.querySelectorAll(".trial-card[data-nct]");
  if (!template || !cards.length || !window.fetch) return;
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
  var number = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var words = template.getAttribute("data-words") || "";

  function mark(trial) {
    var card = byTrial[trial.id];
    if (!card || card.querySelector(".my-notes")) return;
    var line = document.createElement("p");
    line.className = "my-notes";
    line.textContent = words.replace("{count}", number.format(trial.note_count));
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
