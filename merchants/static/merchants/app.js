/* Merchant calendar: small progressive enhancements. Every page works without this file.
 *
 * - [data-connect] forms (Connect / Reconnect Google Calendar) POST to the JSON API with
 *   Accept: application/json and then navigate to the returned authorization_url with GET
 *   (a 307 would make the browser re-send its POST body to Google; SPEC §3).
 * - [data-live] regions re-fetch the current page every data-live-interval ms while the tab
 *   is visible and swap in their new content when it changed (the week view picks up pushes
 *   from Google; the integrations card follows a running sync).
 *   With data-live-version (the week view) the region also polls that URL about once a second
 *   with If-None-Match; the answer is a 304 until the merchant's change counter moves, and only
 *   then is the page re-fetched (a change shows within ~2 s of the sync that made it).
 * - Booking pages: times are shown in the browser's own time zone (the page is reloaded once with
 *   ?tz=<zone> when it differs); the chosen slot is echoed next to the "Book" button, and on a
 *   phone choosing a slot scrolls the details form into view.
 * - Week entries open their detail panel in place (the links also work as plain links).
 * - [data-copy] buttons copy the named field's text (the booking link).
 * - The "+ Block time" popover closes on Escape or a click outside, and focuses its first field.
 * - The sign-up form preselects the browser's time zone ([data-browser-zone]).
 * No inline scripts anywhere: the Content-Security-Policy allows scripts from 'self' only.
 */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function showError(form, text) {
    var box = form.querySelector(".form-error");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }

  function enhanceConnect(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
      })
        .then(function (response) {
          return response.json().then(function (body) {
            if (response.ok && body.authorization_url) {
              window.location.assign(body.authorization_url);
              return;
            }
            var message = body && body.error && body.error.message;
            throw new Error(message || "Google Calendar could not be connected right now. Please try again.");
          });
        })
        .catch(function (error) {
          if (button) button.disabled = false;
          showError(form, error.message || "Something went wrong. Please try again.");
        });
    });
  }

  function enhanceLive(region) {
    var interval = parseInt(region.getAttribute("data-live-interval"), 10) || 10000;
    var busy = false;
    var again = false;
    function refresh() {
      if (busy) { again = true; return; }
      if (document.visibilityState !== "visible") return;
      // Never swap content under someone's fingers.
      if (region.contains(document.activeElement) && document.activeElement !== document.body) return;
      busy = true;
      again = false;
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (text) {
          if (!text) return;
          var fresh = new DOMParser().parseFromString(text, "text/html").getElementById(region.id);
          if (!fresh) return;
          if (fresh.innerHTML !== region.innerHTML) {
            region.innerHTML = fresh.innerHTML;
            var style = fresh.getAttribute("style");
            if (style !== null) region.setAttribute("style", style);
          }
          if (!fresh.hasAttribute("data-live")) {
            window.clearInterval(timer);
            region.removeAttribute("data-live");
          }
        })
        .catch(function () { /* offline for a moment: try again next tick */ })
        .then(function () {
          busy = false;
          if (again) refresh();
        });
    }
    var timer = window.setInterval(refresh, interval);
    var versionUrl = region.getAttribute("data-live-version");
    if (versionUrl) pollVersion(versionUrl, refresh);
  }

  // The cheap conditional poll of the merchant's change counter (scheduling/live.py).
  function pollVersion(url, changed) {
    var etag = null;
    function tick() {
      if (document.visibilityState !== "visible") { window.setTimeout(tick, 1000); return; }
      var headers = etag ? { "If-None-Match": etag } : {};
      fetch(url, { credentials: "omit", cache: "no-store", headers: headers })
        .then(function (response) {
          var fresh = response.headers.get("ETag");
          if (response.status === 200 && fresh && fresh !== etag) {
            if (etag !== null) changed();
            etag = fresh;
          }
        })
        .catch(function () { /* try again next tick */ })
        .then(function () { window.setTimeout(tick, 1000); });
    }
    tick();
  }

  // Booking pages: show times in the browser's zone (the server renders them; ?tz= tells it which).
  function customerZone(form) {
    var pageZone = form.getAttribute("data-page-zone");
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone || zone === pageZone) return;
    var url = new URL(window.location.href);
    if (url.searchParams.has("tz")) return; // the customer (or a link) chose one: keep it
    if (zone === form.getAttribute("data-merchant-zone")) return;
    url.searchParams.set("tz", zone);
    window.location.replace(url.toString());
  }

  function enhanceSlotScroll(form) {
    var details = form.querySelector("#details");
    if (!details || !window.matchMedia) return;
    form.addEventListener("change", function (event) {
      if (event.target.name !== "start" || !window.matchMedia("(max-width: 760px)").matches) return;
      var reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      details.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "start" });
    });
  }

  function enhanceCopy(button) {
    button.addEventListener("click", function () {
      var field = document.querySelector(button.getAttribute("data-copy"));
      if (!field) return;
      var status = button.closest("section, li").querySelector("[data-copy-status]");
      function done(text) { if (status) status.textContent = text; }
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { done("Copied: " + field.value); },
          function () { done("Press Ctrl+C (or ⌘C) to copy the selected link."); }
        );
      } else {
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
        done(copied ? "Copied: " + field.value : "Press Ctrl+C (or ⌘C) to copy the selected link.");
      }
    });
  }

  // Week entries: open the detail panel without a page load (the href is the no-JavaScript way).
  function enhanceEntryPanel() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("[data-entry-open], [data-entry-close]");
      if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      fetch(link.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (text) {
          if (!text) { window.location.assign(link.href); return; }
          var doc = new DOMParser().parseFromString(text, "text/html");
          var panel = document.getElementById("entry-panel");
          var fresh = doc.getElementById("entry-panel");
          var layout = document.querySelector(".week-layout");
          if (!panel || !fresh || !layout) { window.location.assign(link.href); return; }
          panel.outerHTML = fresh.outerHTML;
          var opened = !fresh.hasAttribute("hidden");
          layout.classList.toggle("with-panel", opened);
          var key = new URL(link.href).searchParams.get("entry");
          document.querySelectorAll("#week .entry").forEach(function (entry) {
            entry.classList.toggle("selected", opened && entry.getAttribute("data-key") === key);
          });
          window.history.replaceState(null, "", link.href.split("#")[0]);
          if (opened) document.getElementById("entry-panel").focus();
        })
        .catch(function () { window.location.assign(link.href); });
    });
  }

  function enhanceSlotEcho(form) {
    var echo = form.querySelector("[data-selected-slot]");
    if (!echo) return;
    function update() {
      var chosen = form.querySelector("input[name=start]:checked");
      if (!chosen) { echo.textContent = ""; return; }
      var day = chosen.closest(".slot-day").querySelector("h3").textContent.replace(/\s+/g, " ").trim();
      echo.textContent = "Selected: " + day + ", " + chosen.nextElementSibling.textContent.trim();
    }
    form.addEventListener("change", update);
    update();
  }

  // <details class="popover">: close on Escape (focus back to its summary) and on a click outside.
  function enhancePopovers() {
    var popovers = document.querySelectorAll("details.popover");
    if (!popovers.length) return;
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      popovers.forEach(function (popover) {
        if (!popover.open) return;
        popover.open = false;
        popover.querySelector("summary").focus();
      });
    });
    document.addEventListener("click", function (event) {
      popovers.forEach(function (popover) {
        if (popover.open && !popover.contains(event.target)) popover.open = false;
      });
    });
    popovers.forEach(function (popover) {
      popover.addEventListener("toggle", function () {
        var first = popover.open && popover.querySelector("input:not([type=hidden]), select, textarea");
        if (first) first.focus();
      });
    });
  }

  // Sign-up: preselect the browser's own time zone while the select still shows the default.
  function preselectBrowserZone(select) {
    if (select.value !== "UTC") return;
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone && select.querySelector('option[value="' + zone + '"]')) select.value = zone;
    } catch (e) { /* old browser: keep UTC */ }
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhancePopovers();
    document.querySelectorAll("select[data-browser-zone]").forEach(preselectBrowserZone);
    document.querySelectorAll("form[data-connect]").forEach(enhanceConnect);
    document.querySelectorAll("[data-live][id]").forEach(enhanceLive);
    document.querySelectorAll("form.booking").forEach(enhanceSlotEcho);
    document.querySelectorAll("form[data-booking-form]").forEach(function (form) {
      customerZone(form);
      enhanceSlotScroll(form);
    });
    document.querySelectorAll("button[data-copy]").forEach(enhanceCopy);
    if (document.getElementById("entry-panel")) enhanceEntryPanel();
  });
})();
