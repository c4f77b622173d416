// prefstore quick entry. Plain JavaScript, no libraries: everything the page needs is here.
// Data is only ever put into the page as text (textContent), never parsed as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const SEARCH_DELAY_MS = 150;
  const PREVIEW_DELAY_MS = 200;
  const CSRF_COOKIE = "prefstore_csrf";
  const SEVERITY_WORD = { severe: "severe", allergy: "allergy", intolerance: "intolerance", dietary: "dietary" };
  const SEVERITY_SAID = {
    severe: "severe allergy", allergy: "allergy", intolerance: "intolerance", dietary: "dietary need",
  };
  const ANNOUNCE_GAP_MS = 50;
  const ONE_COLUMN = window.matchMedia("(max-width: 820px)"); // as in app.css
  const KIND_WORD = {
    like: "likes", dislike: "dislikes", allergy: "allergy", severe: "SEVERE allergy",
    dietary: "dietary need", tag: "tag",
  };

  // `card`: the guest shown ({id, created_at}) or null. `cardSeq` moves whenever the card
  // shown changes or closes: an answer that arrives for an older card is dropped, never
  // shown over the next guest. `entryFor`: the card the line in the entry field was typed
  // on; the save sends it, and the server refuses it for any other guest.
  // `party`: the guests in the party tray ({id, name}), kept across searches; `venue`: where
  // the signed-in staff member works (null: no venue), for the card's "here" part.
  const state = {
    hits: [], active: -1, card: null, cardSeq: 0, entryFor: null, searchSeq: 0, previewSeq: 0,
    party: [], venue: null, suggestions: [],
  };
  const MAX_PARTY = 20; // as the server's bound
  let searchTimer = 0;
  let previewTimer = 0;
  let announceTimer = 0;

  // ---------------------------------------------------------------- HTTP
  function csrfToken() {
    const found = document.cookie.split("; ").find((c) => c.startsWith(CSRF_COOKIE + "="));
    return found ? decodeURIComponent(found.slice(CSRF_COOKIE.length + 1)) : "";
  }

  // Error bodies: `{status, error, detail, field, reason}` or RFC 9457 problem details
  // (`{type, title, status, detail, field, reason}`); only `detail`/`title` and `field`
  // are read, which both have.
  class HttpError extends Error {
    constructor(status, body) {
      super((body && (body.detail || body.title)) || `request failed (${status})`);
      this.status = status;
      this.body = body;
      this.field = (body && typeof body.field === "string") ? body.field : "";
    }
  }

  function parsed(text) {
    try {
      return text ? JSON.parse(text) : null;
    } catch (_) {
      return null; // a proxy's HTML error page: the status still says what happened
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json, application/problem+json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = parsed(await response.text());
    if (response.status === 401 && path !== "/ui/session") {
      showSignIn("Your session has ended. Please sign in again.");
    }
    if (!response.ok) throw new HttpError(response.status, data);
    return data;
  }

  // ---------------------------------------------------------------- small DOM helpers
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function fill(list, items, render, emptyText) {
    list.replaceChildren();
    if (!items.length) {
      list.append(el("li", { class: "empty", text: emptyText }));
      return;
    }
    for (const item of items) list.append(render(item));
  }

  const dateFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? "" : dateFmt.format(d);
  }

  // "3 days ago", "yesterday", "2 months ago": the card holds times (it is rendered when
  // written), the phrase is made here, when it is read.
  const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  function ago(iso) {
    const then = iso ? new Date(iso).getTime() : NaN;
    if (Number.isNaN(then)) return "";
    const days = Math.round((then - Date.now()) / 86400000);
    if (Math.abs(days) < 45) return relative.format(days, "day");
    const months = Math.round(days / 30.44);
    if (Math.abs(months) < 24) return relative.format(months, "month");
    return relative.format(Math.round(days / 365.25), "year");
  }

  // The evidence on a like or dislike: "7 times, last 3 days ago" ("" when never seen).
  function evidence(seen, lastSeen) {
    if (!seen) return "";
    const times = seen === 1 ? "once" : `${seen} times`;
    return lastSeen ? `${times}, last ${ago(lastSeen)}` : times;
  }

  // ---------------------------------------------------------------- sign in / out
  function showSignIn(message) {
    $("app").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
    $("key").focus();
  }

  function showApp(info) {
    $("signin").hidden = true;
    $("app").hidden = false;
    $("who").hidden = false;
    $("who-name").textContent = info.name;
    state.venue = info.venue || null;
    $("who-venue").textContent = state.venue ? " at " + state.venue : "";
    $("q").focus();
  }

  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("key");
    const venue = $("venue").value.trim();
    $("signin-error").textContent = "";
    try {
      const info = await api("POST", "/ui/session", venue ? { key: input.value, venue } : { key: input.value });
      input.value = "";
      showApp(info);
    } catch (err) {
      input.select();
      $("signin-error").textContent = err.message;
    }
  });

  $("sign-out").addEventListener("click", async () => {
    try { await api("DELETE", "/ui/session"); } catch (_) { /* signed out either way */ }
    startOver();
    showSignIn("Signed out.");
  });

  // Back to an empty search: no card, no results, no new-guest form.
  function startOver() {
    clearCard();
    clearTimeout(searchTimer);
    state.searchSeq++; // a search still on its way is for nobody now
    $("q").value = "";
    showResults([]);
    $("find-status").textContent = "";
    $("new-customer").hidden = true;
  }

  // ---------------------------------------------------------------- find
  function cueText(hit) {
    const c = hit.cues || {};
    const parts = [];
    if (c.phone) parts.push(c.phone);
    if (c.email) parts.push(c.email);
    if (c.city) parts.push(c.city);
    if (c.last_visit) parts.push("last visit " + when(c.last_visit));
    if (c.tags && c.tags.length) parts.push(c.tags.map((t) => "#" + t).join(" "));
    return parts.join(" · ") || "no contact details";
  }

  function showResults(hits) {
    state.hits = hits;
    state.active = hits.length ? 0 : -1;
    const list = $("results");
    list.replaceChildren();
    hits.forEach((hit, i) => {
      const item = el("li", { id: "hit-" + i, role: "option", "aria-selected": "false" },
        el("span", { class: "hit-score", text: Math.round(hit.score) + "%", "aria-label": "match " + Math.round(hit.score) + " percent" }),
        el("div", { class: "hit-name", text: hit.name }),
        el("div", { class: "hit-cues", text: cueText(hit) }));
      item.addEventListener("mousedown", (e) => e.preventDefault());
      item.addEventListener("click", () => openCustomer(hit.id));
      list.append(item);
    });
    $("q").setAttribute("aria-expanded", hits.length ? "true" : "false");
    highlight();
  }

  function highlight() {
    const q = $("q");
    state.hits.forEach((_, i) => {
      $("hit-" + i).setAttribute("aria-selected", i === state.active ? "true" : "false");
    });
    if (state.active >= 0) {
      q.setAttribute("aria-activedescendant", "hit-" + state.active);
      $("hit-" + state.active).scrollIntoView({ block: "nearest" });
    } else {
      q.removeAttribute("aria-activedescendant");
    }
  }

  $("q").addEventListener("input", () => {
    // A new search is a new guest: the last one's card (allergies, a line not yet saved)
    // goes at once, not when the results come.
    clearCard();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, SEARCH_DELAY_MS);
  });

  async function runSearch() {
    const query = $("q").value.trim();
    const seq = ++state.searchSeq;
    $("new-customer").hidden = true;
    if (!query) {
      showResults([]);
      $("find-status").textContent = "";
      return;
    }
    try {
      const found = await api("GET", "/ui/search?limit=8&q=" + encodeURIComponent(query.slice(0, 100)));
      if (seq !== state.searchSeq) return; // a newer search has started
      showResults(found.hits);
      $("find-status").textContent = found.hits.length
        ? `${found.hits.length} found`
        : "No one found.";
      if (!found.hits.length) offerNewCustomer(query);
    } catch (err) {
      if (seq === state.searchSeq) $("find-status").textContent = err.message;
    }
  }

  $("q").addEventListener("keydown", (event) => {
    const n = state.hits.length;
    if (event.key === "ArrowDown" && n) {
      state.active = (state.active + 1) % n;
      highlight();
      event.preventDefault();
    } else if (event.key === "ArrowUp" && n) {
      state.active = (state.active - 1 + n) % n;
      highlight();
      event.preventDefault();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (state.active >= 0) openCustomer(state.hits[state.active].id);
      else if (!$("new-customer").hidden) $("new-name").focus();
    } else if (event.key === "Escape") {
      startOver();
    }
  });

  // ---------------------------------------------------------------- new customer
  function offerNewCustomer(query) {
    const digits = query.replace(/[^0-9+]/g, "");
    const looksLikePhone = digits.length >= 6 && digits.length >= query.replace(/\s/g, "").length - 2;
    $("new-name").value = looksLikePhone || query.includes("@") ? "" : query;
    $("new-phone").value = looksLikePhone ? query : "";
    $("new-email").value = query.includes("@") ? query : "";
    showFormError("");
    $("new-customer").hidden = false;
  }

  function showFormError(message, owner) {
    $("new-error").textContent = message;
    const open = $("open-owner");
    open.hidden = !owner;
    open.textContent = owner ? "Open " + owner.name : "";
    open.dataset.customerId = owner ? owner.id : "";
  }

  // Alt+N and the New guest button: the form, filled from the search box only when no
  // card is open (with one open, the search was for that guest, not the new one).
  function startNewGuest() {
    const query = state.card ? "" : $("q").value.trim();
    startOver();
    $("q").value = query;
    offerNewCustomer(query);
    $("new-name").focus();
    $("new-name").select();
  }
  $("new-guest").addEventListener("click", startNewGuest);

  // Who already holds the phone or email the form was refused for (409 names the field;
  // without a field, each identifier typed is asked about).
  async function ownerOf(err, body) {
    const kinds = ["phone", "email"].filter((k) => body[k] && (!err.field || err.field.startsWith(k)));
    for (const kind of kinds) {
      try {
        const owner = await api("GET", `/ui/owner?${kind}=` + encodeURIComponent(body[kind]));
        return { kind, owner };
      } catch (_) { /* not found (or gone meanwhile): try the next */ }
    }
    return null;
  }

  $("open-owner").addEventListener("click", () => {
    const id = $("open-owner").dataset.customerId;
    if (!id) return;
    $("new-customer").hidden = true;
    $("find-status").textContent = "";
    openCustomer(id);
  });

  $("new-customer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: $("new-name").value.trim() };
    const phone = $("new-phone").value.trim();
    const email = $("new-email").value.trim();
    if (phone) body.phone = phone;
    if (email) body.email = email;
    showFormError("");
    const seq = state.cardSeq;
    try {
      const card = await api("POST", "/ui/customers", body);
      $("find-status").textContent = `Created ${card.name}.`;
      if (seq !== state.cardSeq) return; // a search started meanwhile: that guest comes first
      $("new-customer").hidden = true;
      openCard(card);
    } catch (err) {
      const held = err.status === 409 ? await ownerOf(err, body) : null;
      if (held) showFormError(`This ${held.kind} belongs to ${held.owner.name}.`, held.owner);
      else showFormError(err.message);
    }
  });

  // ---------------------------------------------------------------- read
  async function openCustomer(id) {
    const seq = ++state.cardSeq;
    try {
      const card = await api("GET", "/ui/customers/" + encodeURIComponent(id));
      if (seq === state.cardSeq) openCard(card);
    } catch (err) {
      if (seq === state.cardSeq) $("find-status").textContent = err.message;
    }
  }

  // A card opens: nothing of the last guest's stays (line, preview, status, undo), the
  // safety facts are read out, and the entry field has the focus. In one column (phones,
  // tablets) the card sits below the results: it is scrolled to the top of the screen, so
  // the name and allergies show above the entry field.
  function openCard(card) {
    clearCard();
    showCard(card);
    announce();
    loadEvents(card.id);
    loadHere(card.id);
    if (ONE_COLUMN.matches) $("card").scrollIntoView({ block: "start" });
    $("entry").focus({ preventScroll: ONE_COLUMN.matches });
  }

  // Close the card and drop everything bound to it. Safe to call with no card open.
  function clearCard() {
    state.cardSeq++;
    state.card = null;
    state.entryFor = null;
    state.previewSeq++;
    clearTimeout(previewTimer);
    state.suggestions = [];
    $("card").hidden = true;
    $("party-card").hidden = true;
    for (const id of ["follow-ups-box", "suggested-box", "here-box"]) $(id).hidden = true;
    for (const id of ["card-name", "card-ids", "visit-summary", "here-summary", "party-names", "party-missing"]) {
      $(id).textContent = "";
    }
    for (const id of [
      "card-tags", "safety-list", "follow-ups", "suggested", "likes", "dislikes", "notes", "visits",
      "favourites", "here-favourites", "here-notes", "party-allergies", "party-follow-ups", "party-likes",
    ]) {
      $(id).replaceChildren();
    }
    showParty();
    $("entry").value = "";
    $("entry-preview").replaceChildren();
    $("entry-status").textContent = "";
    $("card-announce").textContent = "";
    setUndo(false);
  }

  // What the live region says: the guest's name, then each safety section of the card
  // (an element marked data-announce: its heading, then its items, each read as its
  // data-say or its text). New safety sections join by carrying the attribute.
  function safetyText() {
    const parts = [$("card-name").textContent + "."];
    for (const section of $("card").querySelectorAll("[data-announce]")) {
      const heading = section.querySelector("h3, h4");
      const items = [...section.querySelectorAll("li")].map((li) => li.dataset.say || li.textContent);
      if (items.length) parts.push(`${heading ? heading.textContent + ": " : ""}${items.join("; ")}.`);
    }
    return parts.join(" ");
  }

  function announce(said) {
    // Emptied first, then filled after a beat: the same guest opened twice is read twice.
    const region = $("card-announce");
    const text = said || safetyText();
    const seq = state.cardSeq;
    region.textContent = "";
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => {
      if (seq === state.cardSeq) region.textContent = text;
    }, ANNOUNCE_GAP_MS);
  }

  function showCard(card) {
    state.card = { id: card.id, created_at: card.created_at || null, name: card.name };
    $("card").hidden = false;
    $("card-name").textContent = card.name;
    fill($("card-tags"), card.tags, (t) => el("li", { text: "#" + t }), "");
    if (!card.tags.length) $("card-tags").replaceChildren();
    const ids = [...card.phones, ...card.emails, ...Object.entries(card.identifiers).map(([k, v]) => `${k} ${v}`)];
    $("card-ids").textContent = ids.join(" · ");

    const safety = $("safety");
    safety.classList.toggle("none", card.allergies.length === 0);
    fill($("safety-list"), card.allergies, (a) => el("li", {
      class: a.severity,
      "data-say": `${a.label}: ${SEVERITY_SAID[a.severity] || a.severity}` + (a.note ? `, ${a.note}` : ""),
    },
      el("span", { class: "sev", text: SEVERITY_WORD[a.severity] || a.severity }),
      a.label, a.note ? el("span", { class: "meta", text: a.note }) : null),
    "None recorded — ask before serving.");

    showFollowUps(card);
    showSuggestions(card);
    // A comparative like reads as said ("prefers popcorn over pretzels"); each shows how
    // often and how recently its item was bought, when it was.
    const pref = (p) => el("li", {}, p.over ? p.reads || `prefers ${p.label} over ${p.over}` : p.label,
      el("span", { class: "meta", text: [evidence(p.seen, p.last_seen), p.added_by ? "by " + p.added_by : ""].filter(Boolean).join(" · ") }));
    fill($("likes"), card.likes, pref, "—");
    fill($("dislikes"), card.dislikes, pref, "—");
    fill($("notes"), card.notes, (n) => el("li", {}, n.text,
      el("span", { class: "meta", text: [n.author, n.venue ? "at " + n.venue : "", when(n.at)].filter(Boolean).join(", ") })), "No notes yet.");
    const h = card.history;
    $("visit-summary").textContent = h.visits
      ? `${h.visits} visit${h.visits === 1 ? "" : "s"}, last ${when(h.last_visit)}`
      : "No visits recorded.";
    fill($("favourites"), h.top_items, (t) => el("li", {}, t.item, el("span", { class: "meta", text: "× " + t.count })), "—");
    showParty();
  }

  async function loadEvents(id) {
    const seq = state.cardSeq;
    try {
      const page = await api("GET", "/ui/customers/" + encodeURIComponent(id) + "/events");
      if (seq !== state.cardSeq) return;
      fill($("visits"), page.events, (e) => el("li", {},
        `${when(e.at)} · ${e.type}` + (e.location ? " · " + e.location : ""),
        e.items.length ? el("span", { class: "meta", text: e.items.join(", ") }) : null), "—");
    } catch (_) {
      if (seq === state.cardSeq) $("visits").replaceChildren();
    }
  }

  // ---------------------------------------------------------------- follow-ups
  // Right after the allergies, read out with them (each item's data-say: its text and when
  // it is due, not its button). Resolving records who, when and at which venue.
  function showFollowUps(card) {
    const open = card.follow_ups || [];
    const today = new Date().toISOString().slice(0, 10);
    $("follow-ups-box").hidden = open.length === 0;
    $("follow-ups").replaceChildren(...open.map((f) => {
      const due = f.due ? (f.due < today ? `overdue since ${when(f.due)}` : `due ${when(f.due)}`) : "";
      const from = [f.created_by ? "from " + f.created_by : "", f.venue ? "at " + f.venue : ""].filter(Boolean).join(" ");
      const button = el("button", { type: "button", class: "quiet small", text: "Resolve", "aria-label": "Resolve: " + f.text });
      button.addEventListener("click", () => resolveFollowUp(f));
      return el("li", { "data-say": f.text + (due ? ", " + due : "") },
        el("span", { class: "fu-text", text: f.text }),
        el("span", { class: "meta", text: [due, from].filter(Boolean).join(" · ") }), button);
    }));
  }

  async function resolveFollowUp(followUp) {
    const shown = state.card;
    if (!shown) return;
    const seq = state.cardSeq;
    try {
      const path = `/ui/customers/${encodeURIComponent(shown.id)}/follow-ups/${encodeURIComponent(followUp.id)}/resolve`;
      const card = await api("POST", path, {});
      if (seq !== state.cardSeq) return;
      showCard(card);
      $("entry-status").textContent = "Resolved: " + followUp.text;
      $("entry").focus();
    } catch (err) {
      if (seq === state.cardSeq) $("entry-status").textContent = err.message;
    }
  }

  // ---------------------------------------------------------------- suggested likes
  // Items bought often and not recorded: a button each confirms one as a like; Alt+L the
  // first.
  function showSuggestions(card) {
    state.suggestions = card.suggested_likes || [];
    $("suggested-box").hidden = state.suggestions.length === 0;
    $("suggested").replaceChildren(...state.suggestions.map((s, i) => {
      const button = el("button", { type: "button", class: "quiet small", text: "Confirm like", "aria-label": "Confirm like: " + s.item });
      if (i === 0) button.setAttribute("aria-keyshortcuts", "Alt+L");
      button.addEventListener("click", () => confirmLike(s.item));
      return el("li", {}, el("span", { class: "fu-text", text: s.item }),
        el("span", { class: "meta", text: evidence(s.count, s.last_seen) }), button);
    }));
  }

  async function confirmLike(item) {
    const shown = state.card;
    if (!shown) return;
    const seq = state.cardSeq;
    try {
      const card = await api("POST", `/ui/customers/${encodeURIComponent(shown.id)}/likes`, { label: item });
      if (seq !== state.cardSeq) return;
      showCard(card);
      $("entry-status").textContent = `Saved like: ${item}.`;
    } catch (err) {
      if (seq === state.cardSeq) $("entry-status").textContent = err.message;
    }
  }

  function confirmFirstSuggestion() {
    if (!state.card) return;
    if (!state.suggestions.length) {
      $("entry-status").textContent = "No suggested like on this card.";
      return;
    }
    confirmLike(state.suggestions[0].item);
  }

  // ---------------------------------------------------------------- here (this venue)
  async function loadHere(id) {
    const seq = state.cardSeq;
    if (!state.venue) return;
    try {
      const here = await api("GET", "/ui/customers/" + encodeURIComponent(id) + "/here");
      if (seq === state.cardSeq) showHere(here);
    } catch (_) {
      if (seq === state.cardSeq) $("here-box").hidden = true;
    }
  }

  function showHere(here) {
    $("here-box").hidden = false;
    $("here-title").textContent = "Here at " + here.venue;
    const counted = [[here.visits, "visit"], [here.purchases, "purchase"]]
      .filter(([n]) => n).map(([n, what]) => `${n} ${what}${n === 1 ? "" : "s"}`);
    $("here-summary").textContent = counted.length
      ? `${counted.join(", ")} here, last ${when(here.last_event)}`
      : "Nothing recorded here yet.";
    fill($("here-favourites"), here.top_items, (t) => el("li", {}, t.item, el("span", { class: "meta", text: "× " + t.count })), "");
    if (!here.top_items.length) $("here-favourites").replaceChildren();
    fill($("here-notes"), here.notes, (n) => el("li", {}, n.text,
      el("span", { class: "meta", text: ["only here", n.author, when(n.at)].filter(Boolean).join(", ") })), "");
    if (!here.notes.length) $("here-notes").replaceChildren();
  }

  // ---------------------------------------------------------------- the party
  function showParty() {
    const n = state.party.length;
    $("party-list").replaceChildren(...state.party.map((g) => {
      const remove = el("button", { type: "button", class: "quiet small", text: "×", "aria-label": "Remove " + g.name + " from the party" });
      remove.addEventListener("click", () => {
        state.party = state.party.filter((other) => other.id !== g.id);
        showParty();
      });
      return el("li", {}, el("span", { class: "fu-text", text: g.name }), remove);
    }));
    $("party-count").textContent = n ? `(${n})` : "";
    const inParty = state.card && state.party.some((g) => g.id === state.card.id);
    $("party-add").disabled = !state.card || inParty || n >= MAX_PARTY;
    $("party-open").disabled = n === 0;
    $("party-clear").hidden = n === 0;
  }

  function addToParty() {
    const shown = state.card;
    if (!shown) return;
    if (state.party.some((g) => g.id === shown.id)) {
      $("party-status").textContent = `${shown.name} is in the party already.`;
      return;
    }
    if (state.party.length >= MAX_PARTY) {
      $("party-status").textContent = `A party holds at most ${MAX_PARTY} guests.`;
      return;
    }
    state.party.push({ id: shown.id, name: shown.name });
    $("party-status").textContent = `${shown.name} added to the party.`;
    showParty();
  }

  async function openParty() {
    if (!state.party.length) return;
    clearCard();
    const seq = state.cardSeq;
    try {
      const card = await api("POST", "/ui/party", { members: state.party.map((g) => g.id) });
      if (seq === state.cardSeq) showPartyCard(card);
    } catch (err) {
      if (seq === state.cardSeq) $("party-status").textContent = err.message;
    }
  }

  // One card for the table: every allergy with whose it is, each guest's follow-ups, the
  // likes they share. Read out as a guest's card is.
  function showPartyCard(card) {
    const names = card.guests.map((g) => g.name);
    $("party-card").hidden = false;
    $("party-card-title").textContent = `Party of ${card.guests.length}`;
    $("party-names").textContent = names.join(" · ");
    $("party-safety").classList.toggle("none", card.allergies.length === 0);
    fill($("party-allergies"), card.allergies, (a) => el("li", {
      class: a.severity,
      "data-say": `${a.label}: ${SEVERITY_SAID[a.severity] || a.severity}, ${a.name}` + (a.note ? `, ${a.note}` : ""),
    },
      el("span", { class: "sev", text: SEVERITY_WORD[a.severity] || a.severity }),
      a.label, el("span", { class: "whose", text: a.name })),
    "None recorded — ask each guest before serving.");
    const owed = card.guests.flatMap((g) => g.follow_ups.map((f) => ({ name: g.name, text: f.text })));
    fill($("party-follow-ups"), owed, (f) => el("li", {}, el("strong", { text: f.name + ": " }), f.text), "None.");
    fill($("party-likes"), card.shared_likes, (l) => el("li", {}, l.label, el("span", { class: "meta", text: l.names.join(", ") })), "None shared.");
    $("party-missing").textContent = card.not_found.length
      ? `${card.not_found.length} guest${card.not_found.length === 1 ? " was" : "s were"} not found (erased since?).`
      : "";
    const allergies = [...$("party-allergies").querySelectorAll("li")].map((li) => li.dataset.say || li.textContent);
    const said = [`Party of ${names.length}: ${names.join(", ")}.`, `Allergies & dietary needs: ${allergies.join("; ")}.`];
    if (owed.length) said.push(`Follow-ups: ${owed.map((f) => `${f.name}: ${f.text}`).join("; ")}.`);
    announce(said.join(" "));
    if (ONE_COLUMN.matches) $("party-card").scrollIntoView({ block: "start" });
  }

  $("party-add").addEventListener("click", addToParty);
  $("party-open").addEventListener("click", openParty);
  $("party-clear").addEventListener("click", () => {
    state.party = [];
    $("party-status").textContent = "Party cleared.";
    showParty();
  });

  // ---------------------------------------------------------------- add (shorthand)
  function setUndo(enabled) {
    $("undo").disabled = !enabled;
  }

  function showPreview(preview) {
    const box = $("entry-preview");
    box.replaceChildren();
    for (const e of preview.effects) {
      let text = `${KIND_WORD[e.kind] || e.kind}: ${e.label}`;
      if (e.outcome === "known") text += " (already known)";
      if (e.outcome === "replace") text += ` (was ${e.was})`;
      box.append(el("span", { class: `pv ${e.kind} ${e.outcome}`, text }));
    }
    if (preview.note) box.append(el("span", { class: "pv note", text: "note: " + preview.note }));
    for (const w of preview.warnings || []) box.append(el("span", { class: "pv warning", text: w }));
  }

  $("entry").addEventListener("input", () => {
    if (!$("entry").value.trim()) state.entryFor = null;
    else if (!state.entryFor && state.card) state.entryFor = state.card;
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, PREVIEW_DELAY_MS);
  });

  async function runPreview() {
    const text = $("entry").value;
    const seq = ++state.previewSeq;
    if (!text.trim() || !state.card) {
      $("entry-preview").replaceChildren();
      return;
    }
    try {
      const preview = await api("POST", `/ui/customers/${encodeURIComponent(state.card.id)}/preview`, { text });
      if (seq === state.previewSeq) showPreview(preview);
    } catch (err) {
      if (seq !== state.previewSeq) return;
      $("entry-preview").replaceChildren(el("span", { class: "pv warning", text: err.message }));
    }
  }

  $("entry-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("entry");
    const shown = state.card;
    if (!shown || !input.value.trim()) return;
    const typedOn = state.entryFor || shown;
    const seq = state.cardSeq;
    clearTimeout(previewTimer);
    state.previewSeq++;
    try {
      const saved = await api("POST", `/ui/customers/${encodeURIComponent(shown.id)}/entries`, {
        text: input.value, customer_id: typedOn.id, created_at: typedOn.created_at,
      });
      if (seq !== state.cardSeq) return; // saved, but another card is open now: leave it
      input.value = "";
      state.entryFor = null;
      $("entry-preview").replaceChildren();
      showCard(saved.card);
      setUndo(saved.undo);
      const count = saved.effects.filter((e) => e.outcome !== "known").length + (saved.note ? 1 : 0);
      $("entry-status").textContent = saved.undo ? `Saved ${count} item${count === 1 ? "" : "s"}.` : "Nothing new: all already known.";
    } catch (err) {
      if (seq === state.cardSeq) $("entry-status").textContent = err.message;
    }
  });

  $("entry").addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      $("q").focus();
      $("q").select();
    }
  });

  async function undoLast() {
    const shown = state.card;
    if (!shown) return;
    if ($("undo").disabled) {
      $("entry-status").textContent = "Nothing to undo on this card.";
      return;
    }
    const seq = state.cardSeq;
    setUndo(false);
    try {
      const reverted = await api("POST", "/ui/undo", { customer_id: shown.id });
      if (seq !== state.cardSeq) return;
      showCard(reverted.card);
      $("entry-status").textContent = "Undone.";
      $("entry").focus();
    } catch (err) {
      if (seq === state.cardSeq) $("entry-status").textContent = err.message;
    }
  }
  $("undo").addEventListener("click", undoLast);

  // ---------------------------------------------------------------- keys
  // Alt+Z, Alt+N, Alt+L and Alt+P: no browser binds them (Chrome's Alt+F / Alt+E / Alt+D and Firefox's
  // menu letters are other keys), and they type nothing in a field. AltGr, which types
  // letters such as ż and ń on some layouts, arrives as Ctrl+Alt or as AltGraph, not Alt:
  // left alone. Read by physical key (`code`), so a layout's letter for Z does not matter.
  const SHORTCUTS = { KeyZ: undoLast, KeyN: startNewGuest, KeyL: confirmFirstSuggestion, KeyP: addToParty };
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.getModifierState && event.getModifierState("AltGraph")) return;
    const action = SHORTCUTS[event.code];
    if (!action || $("app").hidden) return;
    event.preventDefault();
    action();
  });

  // ---------------------------------------------------------------- start
  api("GET", "/ui/session")
    .then((info) => (info.signed_in ? showApp(info) : showSignIn("")))
    .catch(() => showSignIn("The service is not answering; try again shortly."));
})();
