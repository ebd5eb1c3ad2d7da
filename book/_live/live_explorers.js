/* Live cost explorers of Inception Lab (issue 15; added by book/_ext/live_explorers.py to pages with a marker
 * <div class="il-live" data-explorer="NAME">). On demand ("Run live") this script loads Pyodide, writes the
 * library's formula layer (copied from inception_lab/ by the build) into its file system and imports
 * inception_lab.cost.explorers. Every slider move sends the control values to that module as JSON and draws the
 * view it returns: table cells, bar lengths in %, texts and alt text all come from Python, and so do the colours
 * (the spec's "colours", from inception_lab/palette.py, indexed by each bar segment's "series"). This file holds no
 * cost formula and no colour, and does no arithmetic; tests/test_live_explorers.py checks that it stays so. */
(function () {
  "use strict";

  var script = document.currentScript;
  var version = script ? script.getAttribute("data-pyodide") : "";
  var live = script ? new URL("../_live/", script.src) : null;
  var bridge = null; /* a promise of the Python module, made on the first "Run live" of the page */

  var NO_CORE = "This copy of the book was built without the Python runtime for live explorers (Pyodide could " +
    "not be fetched); use the launch button (rocket icon) to run the notebook on Colab or Binder.";

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function canRun() {
    return location.protocol !== "file:" && Boolean(version) && Boolean(live) &&
      typeof WebAssembly === "object" && typeof fetch === "function" && typeof Promise === "function";
  }

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = url;
      tag.onload = resolve;
      tag.onerror = function () {
        reject(new Error("could not load " + url));
      };
      document.head.appendChild(tag);
    });
  }

  function fetchText(url) {
    return fetch(url).then(function (response) {
      if (!response.ok) {
        throw new Error("could not fetch " + url + " (HTTP " + response.status + ")");
      }
      return response.text();
    });
  }

  async function startPython(progress) {
    progress("Loading Python (Pyodide " + version + ", about 12 MB the first time)…");
    await loadScript(new URL("pyodide/pyodide.js", live).href);
    var pyodide = await window.loadPyodide({indexURL: new URL("pyodide/", live).href});
    progress("Loading the library's cost formulas…");
    var manifest = JSON.parse(await fetchText(new URL("py/manifest.json", live)));
    var home = "/home/pyodide/il_live";
    var sources = await Promise.all(manifest.files.map(function (file) {
      return fetchText(new URL("py/" + file, live));
    }));
    manifest.dirs.forEach(function (dir) {
      pyodide.FS.mkdirTree(home + "/" + dir);
    });
    manifest.files.forEach(function (file, index) {
      pyodide.FS.writeFile(home + "/" + file, sources[index]);
    });
    pyodide.pyimport("sys").path.insert(0, home);
    return pyodide.pyimport(manifest.module);
  }

  function python(progress) {
    if (!bridge) {
      bridge = startPython(progress);
      bridge.catch(function () {
        bridge = null; /* a later click tries again */
      });
    }
    return bridge;
  }

  /* One labelled control; returns a function that reads its value for the Python call. */
  function addControl(form, id, control) {
    var row = make("div", "il-live-control");
    var label = make("label", "", control.label);
    label.setAttribute("for", id);
    var field;
    if (control.kind === "choice") {
      field = make("select");
      control.choices.forEach(function (choice, index) {
        var option = make("option", "", String(choice));
        option.value = String(index);
        option.selected = choice === control.default;
        field.append(option);
      });
      field.id = id;
      field.setAttribute("data-control", control.name);
      row.append(label, field);
      form.append(row);
      return function () {
        return control.choices[Number(field.value)];
      };
    }
    field = make("input");
    field.type = "range";
    field.id = id;
    field.setAttribute("data-control", control.name);
    field.min = String(control.minimum);
    field.max = String(control.maximum);
    field.step = String(control.step);
    field.value = String(control.default);
    var shown = make("output", "il-live-value", field.value);
    shown.setAttribute("for", id);
    field.addEventListener("input", function () {
      shown.textContent = field.value;
    });
    row.append(label, field, shown);
    form.append(row);
    return function () {
      return Number(field.value);
    };
  }

  function renderTable(table) {
    var node = make("table", "il-live-table");
    var head = make("tr");
    table.columns.forEach(function (column) {
      head.append(make("th", "", column));
    });
    var body = make("tbody");
    table.rows.forEach(function (cells) {
      var row = make("tr");
      cells.forEach(function (cell) {
        row.append(make("td", "", cell));
      });
      body.append(row);
    });
    var thead = make("thead");
    thead.append(head);
    node.append(thead, body);
    return node;
  }

  function renderCharts(view, colours) {
    var figure = make("div", "il-live-charts");
    figure.setAttribute("role", "img");
    figure.setAttribute("aria-label", view.alt);
    view.charts.forEach(function (panel) {
      var box = make("div", "il-live-chart");
      box.append(make("p", "il-live-chart-title", panel.title + " [" + panel.suffix + "]"));
      panel.bars.forEach(function (bar) {
        var row = make("div", "il-live-row");
        var track = make("div", "il-live-track");
        bar.segments.forEach(function (piece) {
          var block = make("span", "il-live-seg");
          block.style.width = piece.pct + "%";
          block.style.backgroundColor = colours.series[piece.series];
          block.title = piece.label;
          track.append(block);
        });
        if (panel.marker) {
          var line = make("span", "il-live-marker");
          line.style.left = panel.marker.pct + "%";
          track.append(line);
        }
        row.append(make("span", "il-live-label", bar.label), track, make("span", "il-live-text", bar.text));
        box.append(row);
      });
      if (panel.marker) {
        box.append(make("p", "il-live-marker-note", "dashed line: " + panel.marker.label + " (" +
          panel.marker.text + ")"));
      }
      figure.append(box);
    });
    var legend = make("p", "il-live-legend");
    view.legend.forEach(function (item) {
      var entry = make("span", "il-live-key");
      var swatch = make("span", "il-live-swatch");
      swatch.style.backgroundColor = colours.series[item.series];
      entry.append(swatch, document.createTextNode(item.label));
      legend.append(entry);
    });
    figure.append(legend);
    return figure;
  }

  function render(out, view, colours) {
    var parts = [make("p", "il-live-title", view.title || "")];
    if (view.error) {
      var error = make("p", "il-live-error", view.error);
      error.setAttribute("role", "alert");
      error.style.color = colours.alert;
      parts.push(error);
    } else {
      parts.push(renderTable(view.table), renderCharts(view, colours));
    }
    out.replaceChildren.apply(out, parts);
  }

  function build(marker, name, module) {
    var spec = JSON.parse(module.spec_json(name));
    var panel = make("div", "il-live-panel");
    var form = make("form", "il-live-controls");
    form.setAttribute("aria-label", "explorer settings");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
    });
    var readers = {};
    spec.controls.forEach(function (control) {
      readers[control.name] = addControl(form, "il-live-" + name + "-" + control.name, control);
    });
    var out = make("div", "il-live-output");
    out.setAttribute("aria-live", "polite");
    panel.append(make("p", "il-live-heading", "Live explorer: the library's own Python, running in this page"),
      form, out);
    marker.append(panel);
    form.addEventListener("input", function () {
      var settings = {};
      spec.controls.forEach(function (control) {
        settings[control.name] = readers[control.name]();
      });
      render(out, JSON.parse(module.view_json(name, JSON.stringify(settings))), spec.colours);
    });
    render(out, spec.view, spec.colours);
  }

  function setUp(marker) {
    var name = marker.getAttribute("data-explorer");
    var fallback = marker.querySelector(".il-live-fallback");
    if (!canRun()) {
      marker.setAttribute("data-state", "unavailable");
      if (location.protocol !== "file:" && !version && fallback) {
        fallback.textContent = NO_CORE;
      }
      return;
    }
    if (fallback) {
      fallback.hidden = true;
    }
    var bar = make("div", "il-live-bar");
    var button = make("button", "il-live-run", "Run live");
    button.type = "button";
    bar.append(button, make("span", "il-live-note", "runs this explorer in your browser with the library's " +
      "own Python (Pyodide); the first start downloads about 12 MB"));
    var status = make("div", "il-live-status");
    status.setAttribute("role", "status");
    marker.append(bar, status);
    marker.setAttribute("data-state", "idle");
    button.addEventListener("click", function () {
      button.disabled = true;
      marker.setAttribute("data-state", "loading");
      var text = make("span", "il-live-progress-text");
      status.replaceChildren(make("progress", "il-live-progress"), text);
      python(function (message) {
        text.textContent = message;
      }).then(function (module) {
        build(marker, name, module);
        bar.remove();
        status.replaceChildren();
        marker.setAttribute("data-state", "ready");
      }).catch(function (error) {
        status.textContent = "The live explorer could not start (" + error.message + "); the static version " +
          "below is unchanged.";
        button.disabled = false;
        marker.setAttribute("data-state", "error");
      });
    });
  }

  function init() {
    document.querySelectorAll(".il-live[data-explorer]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
