// The settings page: a provider preset fills the endpoint, key name, models and samplers (the
// values come from the page's own JSON block); the reader adjusts and saves. The hint under
// the key field names the key name in the form, whichever way it changed.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var data = document.getElementById("preset-data");
    if (!data) return;
    var presets = {};
    JSON.parse(data.textContent).forEach(function (p) { presets[p.id] = p; });
    var sourcesBlock = document.getElementById("key-sources");
    var sources = sourcesBlock ? JSON.parse(sourcesBlock.textContent) : {};
    var fields = ["base_url", "api_key_env", "narrative_model", "classifier_model"];
    function field(name) { return document.getElementById("f-inference." + name); }

    function code(text) {
      var c = document.createElement("code");
      c.textContent = text;
      return c;
    }
    // the same words the server writes (play/settings.html), for the name now in the form
    function showKeyState() {
      var state = document.querySelector("#h-api-key .key-state");
      if (!state) return;
      var name = field("api_key_env").value.trim();
      var source = Object.prototype.hasOwnProperty.call(sources, name) ? sources[name] : null;
      var parts;
      if (!name) parts = ["Name the environment variable for the key above."];
      else if (source === "environment") parts = ["The environment variable ", code(name), " is set: it is used, and wins over a saved key."];
      else if (source === "secrets file") parts = ["A key for ", code(name), " is saved in ", code("data/secrets.toml"), "."];
      else if (source === "") parts = ["No key for ", code(name), " yet."];
      else parts = ["A key pasted here is saved as ", code(name), " (save to see whether one is set)."];
      state.replaceChildren.apply(state, parts);
      state.dataset.keyEnv = name;
      var forget = document.querySelector("#h-api-key .forget");
      if (forget) {
        forget.hidden = source !== "secrets file";
        if (forget.hidden) forget.querySelector("input").checked = false;
      }
    }
    function mark() {
      var url = field("base_url").value.trim();
      document.querySelectorAll(".preset").forEach(function (b) {
        var p = presets[b.dataset.preset];
        b.setAttribute("aria-pressed", p && p.base_url === url ? "true" : "false");
      });
    }
    document.querySelectorAll(".preset").forEach(function (button) {
      button.addEventListener("click", function () {
        var p = presets[button.dataset.preset];
        fields.forEach(function (name) { field(name).value = p[name]; });
        Object.keys(p.samplers || {}).forEach(function (name) {
          var input = document.getElementById("f-samplers." + name);
          if (input) input.value = p.samplers[name];
        });
        document.getElementById("preset-note").textContent = p.label + ": " + p.note;
        mark();
        showKeyState();
      });
    });
    field("base_url").addEventListener("input", mark);
    field("api_key_env").addEventListener("input", showKeyState);
    mark();
  });
})();
