// Every page: the colour theme toggle, the small-screen menu, and closing open menus.
(function () {
  "use strict";
  var THEMES = ["auto", "light", "dark"];
  var LABELS = {auto: "follow the system", light: "light", dark: "dark"};

  function currentTheme() {
    return document.documentElement.dataset.theme || "auto";
  }

  function setTheme(theme) {
    var root = document.documentElement;
    if (theme === "auto") delete root.dataset.theme;
    else root.dataset.theme = theme;
    try {
      if (theme === "auto") localStorage.removeItem("rp-theme");
      else localStorage.setItem("rp-theme", theme);
    } catch (e) { /* storage disabled: the choice lasts for this page */ }
    labelToggle();
    document.dispatchEvent(new CustomEvent("rp:theme"));
  }

  function labelToggle() {
    var button = document.getElementById("theme-toggle");
    if (button) button.setAttribute("aria-label", "Colour theme: " + LABELS[currentTheme()]);
  }

  // A form whose answer takes a while (data-busy: what is happening) says so while it runs:
  // its button waits, a progress line with the words shows, the page is not left blank.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.dataset || !form.dataset.busy || e.defaultPrevented) return;
    var button = form.querySelector("button[type=submit], button:not([type])");
    if (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
    var line = form.querySelector(".busy-line");
    if (!line) {
      line = document.createElement("p");
      line.className = "busy-line";
      line.setAttribute("role", "status");
      form.appendChild(line);
    }
    line.innerHTML = '<progress aria-label="working"></progress> ';
    line.appendChild(document.createTextNode(form.dataset.busy));
  });
  // back from the browser's cache (Back after the answer): the form works again
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-busy] button[aria-busy]").forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("aria-busy");
    });
    document.querySelectorAll("form[data-busy] .busy-line").forEach(function (l) { l.remove(); });
  });

  // New story: another character takes its own scenario, else the card's own story
  document.addEventListener("change", function (e) {
    if (!e.target || e.target.id !== "new-character") return;
    var scenario = document.getElementById("new-scenario");
    if (!scenario) return;
    var own = scenario.querySelector('option[data-character="' + e.target.value + '"]');
    scenario.value = own ? own.value : "";
  });

  document.addEventListener("DOMContentLoaded", function () {
    labelToggle();
    var toggle = document.getElementById("theme-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length];
        setTheme(next);
      });
    }
    var navToggle = document.querySelector(".nav-toggle");
    if (navToggle) {
      navToggle.addEventListener("click", function () {
        var bar = navToggle.closest(".topbar");
        var open = !bar.classList.contains("nav-open");
        bar.classList.toggle("nav-open", open);
        navToggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
  });

  // A menu built from <details class="turn-menu"> closes on a click elsewhere, on Escape, and
  // after one of its actions was chosen; only one is open at a time.
  function closeMenus(except) {
    document.querySelectorAll("details.turn-menu[open]").forEach(function (menu) {
      if (menu !== except) menu.open = false;
    });
  }
  document.addEventListener("click", function (e) {
    var menu = e.target.closest && e.target.closest("details.turn-menu");
    if (!menu) { closeMenus(null); return; }
    if (e.target.closest(".menu")) setTimeout(function () { menu.open = false; }, 0);
    else closeMenus(menu);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var open = document.querySelector("details.turn-menu[open]");
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    }
    var bar = document.querySelector(".topbar.nav-open");
    if (bar) {
      bar.classList.remove("nav-open");
      bar.querySelector(".nav-toggle").setAttribute("aria-expanded", "false");
    }
  });
})();
