// Decision log filters of report.html. The rows are JSON in the element #decision-data:
// {"policies": [name, ...], "colours": [css colour, ...],
//  "rows": [[time, policy index, action, node, instance type, zone, pod, reason, detail], ...]}.
// Cells are set through textContent, so no logged text is parsed as HTML.
(function () {
  "use strict";
  var SHOWN = 500;
  var data = JSON.parse(document.getElementById("decision-data").textContent);
  var rows = data.rows;
  var body = document.querySelector("#decision-table tbody");
  var count = document.getElementById("decision-count");
  var policy = document.getElementById("filter-policy");
  var action = document.getElementById("filter-action");
  var reason = document.getElementById("filter-reason");
  var node = document.getElementById("filter-node");
  var text = document.getElementById("filter-text");

  function fill(select, values) {
    values.forEach(function (value) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = value;
      select.appendChild(option);
    });
  }
  function distinct(column) {
    var seen = {};
    rows.forEach(function (row) { seen[row[column]] = true; });
    return Object.keys(seen).sort();
  }
  data.policies.forEach(function (name, index) {
    var option = document.createElement("option");
    option.value = String(index);
    option.textContent = name;
    policy.appendChild(option);
  });
  fill(action, distinct(2));
  fill(reason, distinct(7));
  // A node filter equal to a whole node name matches that node only, so that `node-1` does not
  // also show `node-10`. Any other text matches the node names that contain it.
  var nodeNames = {};
  rows.forEach(function (row) { nodeNames[row[3].toLowerCase()] = true; });

  function cell(row, value, className) {
    var td = document.createElement("td");
    td.textContent = value;
    if (className) { td.className = className; }
    row.appendChild(td);
    return td;
  }

  function render() {
    var wantedPolicy = policy.value;
    var wantedAction = action.value;
    var wantedReason = reason.value;
    var wantedNode = node.value.trim().toLowerCase();
    var wantedText = text.value.trim().toLowerCase();
    var exactNode = nodeNames[wantedNode] === true;

    var matches = rows.filter(function (row) {
      return (wantedPolicy === "" || String(row[1]) === wantedPolicy) &&
        (wantedAction === "" || row[2] === wantedAction) &&
        (wantedReason === "" || row[7] === wantedReason) &&
        (wantedNode === "" || (exactNode ? row[3].toLowerCase() === wantedNode :
          row[3].toLowerCase().indexOf(wantedNode) !== -1)) &&
        (wantedText === "" || (row[6] + " " + row[8]).toLowerCase().indexOf(wantedText) !== -1);
    });

    // Show the first SHOWN matches and how many there are.
    var fragment = document.createDocumentFragment();
    matches.slice(0, SHOWN).forEach(function (row) {
      var tr = document.createElement("tr");
      cell(tr, row[0], "number");
      var name = cell(tr, "", "policy");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = data.colours[row[1]];
      name.appendChild(swatch);
      name.appendChild(document.createTextNode(data.policies[row[1]]));
      cell(tr, row[2]);
      cell(tr, row[3], "node").title = "Show only this node";
      cell(tr, row[4]);
      cell(tr, row[5]);
      cell(tr, row[6]);
      cell(tr, row[7]);
      cell(tr, row[8], "detail");
      fragment.appendChild(tr);
    });
    body.replaceChildren(fragment);

    var message = matches.length + " of " + rows.length + " decisions match";
    if (matches.length > SHOWN) {
      message += "; the first " + SHOWN + " are shown, narrow the filters to see others";
    }
    count.textContent = message;
  }

  body.addEventListener("click", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("node")) {
      node.value = target.textContent;
      render();
    }
  });
  [policy, action, reason].forEach(function (control) {
    control.addEventListener("change", render);
  });
  [node, text].forEach(function (control) {
    control.addEventListener("input", render);
  });
  document.getElementById("filter-clear").addEventListener("click", function () {
    policy.value = "";
    action.value = "";
    reason.value = "";
    node.value = "";
    text.value = "";
    render();
  });
  render();
})();
