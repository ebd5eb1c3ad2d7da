// Inception Lab: between 992 and 1279 px the left-hand table of contents starts folded, so the content column holds
// the chapters' 120-column code and outputs without sideways scrolling (tests/test_browser.py checks 1024 px). The
// theme's own "☰" button unfolds it (sphinx-book-theme toggles the same class above 992 px).
document.addEventListener("DOMContentLoaded", () => {
  const sidebar = document.querySelector("#pst-primary-sidebar");
  if (sidebar && window.matchMedia("(min-width: 992px) and (max-width: 1279.98px)").matches) {
    sidebar.classList.add("pst-sidebar-hidden");
  }
});
