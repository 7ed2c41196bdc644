/* Merchant calendar: small progressive enhancements. Every page works without this file.
 *
 * - [data-connect] forms (Connect / Reconnect Google Calendar) POST to the JSON API with
 *   Accept: application/json and then navigate to the returned authorization_url with GET
 *   (a 307 would make the browser re-send its POST body to Google; SPEC §3).
 * - [data-live] regions re-fetch the current page every data-live-interval ms while the tab
 *   is visible and swap in their new content when it changed (the week view picks up pushes
 *   from Google; the integrations card follows a running sync).
 * - The booking page echoes the chosen slot next to the "Book" button.
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
    function refresh() {
      if (busy || document.visibilityState !== "visible") return;
      // Never swap content under someone's fingers.
      if (region.contains(document.activeElement) && document.activeElement !== document.body) return;
      busy = true;
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
        .then(function () { busy = false; });
    }
    var timer = window.setInterval(refresh, interval);
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
  });
})();
