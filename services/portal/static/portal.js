// Progressive enhancement only: every page works without this script.
// 1. The registration form's time zone starts as the browser's own (when the field is empty).
// 2. Pages that show times use the browser's zone once, remembered in a cookie, until the person
//    picks another one with the "Show times in" form.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone) {
    return;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var fields = document.querySelectorAll("input[data-browser-zone='fill']");
    for (var i = 0; i < fields.length; i++) {
      if (!fields[i].value) {
        fields[i].value = zone;
      }
    }
    var times = document.querySelector("[data-zone-chosen='no']");
    if (times && document.cookie.indexOf("lc_tz=") === -1) {
      // IANA names are plain cookie characters (letters, digits, / _ + -): written as they are.
      document.cookie = "lc_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
      window.location.reload();
    }
  });
})();
