// prefstore quick entry. Plain JavaScript, no libraries: everything the page needs is here.
// Data is only ever put into the page as text (textContent), never parsed as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const SEARCH_DELAY_MS = 150;
  const PREVIEW_DELAY_MS = 200;
  const CSRF_COOKIE = "prefstore_csrf";
  const SEVERITY_WORD = { severe: "severe", allergy: "allergy", intolerance: "intolerance", dietary: "dietary" };
  const KIND_WORD = {
    like: "likes", dislike: "dislikes", allergy: "allergy", severe: "SEVERE allergy",
    dietary: "dietary need", tag: "tag",
  };

  const state = { hits: [], active: -1, customerId: null, searchSeq: 0, previewSeq: 0 };

  // ---------------------------------------------------------------- HTTP
  function csrfToken() {
    const found = document.cookie.split("; ").find((c) => c.startsWith(CSRF_COOKIE + "="));
    return found ? decodeURIComponent(found.slice(CSRF_COOKIE.length + 1)) : "";
  }

  class HttpError extends Error {
    constructor(status, body) {
      super((body && body.detail) || `request failed (${status})`);
      this.status = status;
      this.body = body;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
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

  // ---------------------------------------------------------------- sign in / out
  function showSignIn(message) {
    $("app").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
    $("key").focus();
  }

  function showApp(name) {
    $("signin").hidden = true;
    $("app").hidden = false;
    $("who").hidden = false;
    $("who-name").textContent = name;
    $("q").focus();
  }

  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("key");
    $("signin-error").textContent = "";
    try {
      const info = await api("POST", "/ui/session", { key: input.value });
      input.value = "";
      showApp(info.name);
    } catch (err) {
      input.select();
      $("signin-error").textContent = err.message;
    }
  });

  $("sign-out").addEventListener("click", async () => {
    try { await api("DELETE", "/ui/session"); } catch (_) { /* signed out either way */ }
    clearCard();
    $("q").value = "";
    showResults([]);
    showSignIn("Signed out.");
  });

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

  let searchTimer = 0;
  $("q").addEventListener("input", () => {
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
      $("q").value = "";
      showResults([]);
      $("find-status").textContent = "";
      $("new-customer").hidden = true;
    }
  });

  // ---------------------------------------------------------------- new customer
  function offerNewCustomer(query) {
    const digits = query.replace(/[^0-9+]/g, "");
    const looksLikePhone = digits.length >= 6 && digits.length >= query.replace(/\s/g, "").length - 2;
    $("new-name").value = looksLikePhone || query.includes("@") ? "" : query;
    $("new-phone").value = looksLikePhone ? query : "";
    $("new-email").value = query.includes("@") ? query : "";
    $("new-error").textContent = "";
    $("new-customer").hidden = false;
  }

  $("new-customer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: $("new-name").value.trim() };
    const phone = $("new-phone").value.trim();
    const email = $("new-email").value.trim();
    if (phone) body.phone = phone;
    if (email) body.email = email;
    try {
      const card = await api("POST", "/ui/customers", body);
      $("new-customer").hidden = true;
      $("find-status").textContent = `Created ${card.name}.`;
      showCard(card);
      loadEvents(card.id);
      $("entry").focus();
    } catch (err) {
      $("new-error").textContent = err.message;
    }
  });

  // ---------------------------------------------------------------- read
  async function openCustomer(id) {
    try {
      const card = await api("GET", "/ui/customers/" + encodeURIComponent(id));
      showCard(card);
      setUndo(false);
      $("entry-status").textContent = "";
      loadEvents(id);
      $("entry").focus();
    } catch (err) {
      $("find-status").textContent = err.message;
    }
  }

  function clearCard() {
    state.customerId = null;
    $("card").hidden = true;
  }

  function showCard(card) {
    state.customerId = card.id;
    $("card").hidden = false;
    $("card-name").textContent = card.name;
    fill($("card-tags"), card.tags, (t) => el("li", { text: "#" + t }), "");
    if (!card.tags.length) $("card-tags").replaceChildren();
    const ids = [...card.phones, ...card.emails, ...Object.entries(card.identifiers).map(([k, v]) => `${k} ${v}`)];
    $("card-ids").textContent = ids.join(" · ");

    const safety = $("safety");
    safety.classList.toggle("none", card.allergies.length === 0);
    fill($("safety-list"), card.allergies, (a) => el("li", { class: a.severity },
      el("span", { class: "sev", text: SEVERITY_WORD[a.severity] || a.severity }),
      a.label, a.note ? el("span", { class: "meta", text: a.note }) : null),
    "None recorded — ask before serving.");

    const pref = (p) => el("li", {}, p.label, el("span", { class: "meta", text: p.added_by ? "by " + p.added_by : "" }));
    fill($("likes"), card.likes, pref, "—");
    fill($("dislikes"), card.dislikes, pref, "—");
    fill($("notes"), card.notes, (n) => el("li", {}, n.text,
      el("span", { class: "meta", text: [n.author, when(n.at)].filter(Boolean).join(", ") })), "No notes yet.");
    const h = card.history;
    $("visit-summary").textContent = h.visits
      ? `${h.visits} visit${h.visits === 1 ? "" : "s"}, last ${when(h.last_visit)}`
      : "No visits recorded.";
    fill($("favourites"), h.top_items, (t) => el("li", {}, t.item, el("span", { class: "meta", text: "× " + t.count })), "—");
  }

  async function loadEvents(id) {
    try {
      const page = await api("GET", "/ui/customers/" + encodeURIComponent(id) + "/events");
      if (state.customerId !== id) return;
      fill($("visits"), page.events, (e) => el("li", {},
        `${when(e.at)} · ${e.type}` + (e.location ? " · " + e.location : ""),
        e.items.length ? el("span", { class: "meta", text: e.items.join(", ") }) : null), "—");
    } catch (_) {
      $("visits").replaceChildren();
    }
  }

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

  let previewTimer = 0;
  $("entry").addEventListener("input", () => {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, PREVIEW_DELAY_MS);
  });

  async function runPreview() {
    const text = $("entry").value;
    const seq = ++state.previewSeq;
    if (!text.trim() || !state.customerId) {
      $("entry-preview").replaceChildren();
      return;
    }
    try {
      const preview = await api("POST", `/ui/customers/${encodeURIComponent(state.customerId)}/preview`, { text });
      if (seq === state.previewSeq) showPreview(preview);
    } catch (err) {
      if (seq !== state.previewSeq) return;
      $("entry-preview").replaceChildren(el("span", { class: "pv warning", text: err.message }));
    }
  }

  $("entry-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("entry");
    if (!state.customerId || !input.value.trim()) return;
    clearTimeout(previewTimer);
    state.previewSeq++;
    try {
      const saved = await api("POST", `/ui/customers/${encodeURIComponent(state.customerId)}/entries`, { text: input.value });
      input.value = "";
      $("entry-preview").replaceChildren();
      showCard(saved.card);
      setUndo(saved.undo);
      const count = saved.effects.filter((e) => e.outcome !== "known").length + (saved.note ? 1 : 0);
      $("entry-status").textContent = saved.undo ? `Saved ${count} item${count === 1 ? "" : "s"}.` : "Nothing new: all already known.";
    } catch (err) {
      $("entry-status").textContent = err.message;
    }
  });

  $("entry").addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      $("q").focus();
      $("q").select();
    }
  });

  $("undo").addEventListener("click", async () => {
    try {
      const reverted = await api("POST", "/ui/undo");
      showCard(reverted.card);
      setUndo(false);
      $("entry-status").textContent = "Undone.";
      $("entry").focus();
    } catch (err) {
      $("entry-status").textContent = err.message;
    }
  });

  // ---------------------------------------------------------------- start
  api("GET", "/ui/session")
    .then((info) => (info.signed_in ? showApp(info.name) : showSignIn("")))
    .catch(() => showSignIn("The service is not answering; try again shortly."));
})();
