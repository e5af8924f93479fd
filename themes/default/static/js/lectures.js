/* Keeps the lecture schedule right between builds.
 *
 * The static page lists lectures as upcoming or past as of the build. This script re-sorts them by the
 * visitor's clock: a lecture whose end (data-ends, UTC) has passed moves to its month under "past",
 * one that has not ended moves back to "upcoming". On the home page it hides lectures that have ended
 * and shows the next data-limit ones. Without JavaScript the build-time page stays as it is.
 */
(function () {
  "use strict";

  function time(el, name) {
    var value = el.getAttribute(name);
    return value ? Date.parse(value) : NaN;
  }

  function byStart(a, b) {
    return time(a, "data-starts") - time(b, "data-starts");
  }

  function resortSchedule(root, now) {
    var upcoming = root.querySelector("[data-upcoming]");
    var past = root.querySelector("[data-past]");
    if (!upcoming || !past) return;
    var upcomingList = upcoming.querySelector("[data-list]");
    var dated = Array.prototype.slice.call(root.querySelectorAll("li[data-ends]"));
    // Lectures without a fixed day have no data-ends and always stay at the end of "upcoming".
    var undated = Array.prototype.slice.call(upcomingList.querySelectorAll("li:not([data-ends])"));
    var soon = dated.filter(function (li) { return !(time(li, "data-ends") <= now); }).sort(byStart);
    var gone = dated.filter(function (li) { return time(li, "data-ends") <= now; }).sort(byStart).reverse();

    soon.concat(undated).forEach(function (li) { upcomingList.appendChild(li); });

    var groups = {};
    Array.prototype.forEach.call(past.querySelectorAll("[data-month-group]"), function (section) {
      groups[section.getAttribute("data-month-group")] = section;
    });
    var order = [];
    gone.forEach(function (li) {
      var key = li.getAttribute("data-month");
      var section = groups[key];
      if (!section) {
        section = document.createElement("section");
        section.className = "month";
        section.setAttribute("data-month-group", key);
        section.setAttribute("aria-labelledby", "month-" + key);
        var heading = document.createElement("h3");
        heading.id = "month-" + key;
        heading.textContent = li.getAttribute("data-month-label");
        var list = document.createElement("ol");
        list.className = "lecture-list";
        list.setAttribute("data-list", "");
        section.appendChild(heading);
        section.appendChild(list);
        groups[key] = section;
      }
      if (order.indexOf(key) < 0) order.push(key);
      section.querySelector("[data-list]").appendChild(li);
    });
    var anchor = past.querySelector("[data-empty]");
    Object.keys(groups).forEach(function (key) {
      if (order.indexOf(key) < 0) groups[key].remove();
    });
    order.sort().reverse().forEach(function (key) { past.insertBefore(groups[key], anchor); });

    upcoming.querySelector("[data-empty]").hidden = soon.length + undated.length > 0;
    anchor.hidden = gone.length > 0;
    root.setAttribute("data-resorted", "");
  }

  function refreshTeaser(list, now) {
    var limit = parseInt(list.getAttribute("data-limit"), 10) || 2;
    var shown = 0;
    Array.prototype.forEach.call(list.querySelectorAll("li[data-ends]"), function (li) {
      if (time(li, "data-ends") <= now) {
        li.remove();
      } else {
        li.hidden = shown >= limit;
        shown += 1;
      }
    });
    var empty = list.parentNode.querySelector("[data-teaser-empty]");
    if (empty) empty.hidden = shown > 0;
    list.setAttribute("data-resorted", "");
  }

  function run() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll("[data-schedule]"), function (root) {
      resortSchedule(root, now);
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-lecture-teaser]"), function (list) {
      refreshTeaser(list, now);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
