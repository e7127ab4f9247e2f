"""The built site in a real browser: every page loads with no broken link, image, request or console error.

The site is built with ``mkdocs build --strict`` into a temporary folder, served on
loopback, and every HTML page is opened in one headless Chromium driven by Selenium
with the system ``chromedriver`` (nothing is downloaded at run time). A page fails on:

- an ``<a href>`` to a file of the site that the build did not write, or to an anchor
  that the target page does not have (resolved against the built folder, as a project
  site under a sub-path would resolve it, so a link above the site's root is broken too);
- an ``<img>`` whose ``naturalWidth`` is 0 once it has loaded or failed;
- a request for a local resource that failed or answered 400 or more;
- a request to another host (the site must work offline; `OTHER_HOSTS_ALLOWED`);
- an error in the browser console.

Chromium resolves no host but 127.0.0.1, so the run is the same with or without a
network.

Screenshots (`SCREENSHOT_PAGES`) of the home page, the sentiment recipe page (its top,
the model code, the sample predictions, the full-data run) and the gates page's math go
to ``$RNN_APPS_SCREENSHOTS`` (default: ``screenshots/`` in the temporary build folder). Without Chromium the test
is skipped, unless ``RNN_APPS_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import contextlib
import functools
import html.parser
import http.server
import json
import os
import pathlib
import posixpath
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse

import pytest
from conftest import REPO

SCREENSHOT_PAGES = {
    "home.png": ("", None),
    "recipe-sentiment.png": ("recipes/sentiment/", None),
    "recipe-sentiment-models.png": ("recipes/sentiment/", "models"),
    "recipe-sentiment-predictions.png": ("recipes/sentiment/", "sample-predictions"),
    "recipe-sentiment-full-data.png": ("recipes/sentiment/", "a-run-on-the-full-dataset"),
    "concepts-gates.png": ("gates/", "the-lstm-cell"),
}
"""Screenshot file name -> (page path under the site's root, the anchor scrolled to the top or None)."""

# Waits for every image (lazy ones made eager) to load or fail, then returns the sources of broken ones.
BROKEN_IMAGES_SCRIPT = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
const settled = images.map((image) => {
  image.loading = "eager";
  if (image.complete) return Promise.resolve();
  return new Promise((resolve) => {
    image.addEventListener("load", resolve);
    image.addEventListener("error", resolve);
  });
});
const timeout = new Promise((resolve) => setTimeout(resolve, 5000));
Promise.race([Promise.all(settled), timeout]).then(() =>
  done(images.filter((image) => !image.complete || image.naturalWidth === 0)
             .map((image) => image.getAttribute("src"))));
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("RNN_APPS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; RNN_APPS_REQUIRE_BROWSER=1 says the browser check must run")
    pytest.skip(f"{reason} (install: apt-get install chromium chromium-driver; pip install selenium)")


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the whole module, logging console messages and network events."""
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("Selenium is not installed")
    binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        _unavailable(f"Chromium or chromedriver is not on PATH (chromium: {binary}, chromedriver: {driver_path})")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    try:
        # An explicit driver path keeps Selenium Manager from looking for (or downloading) one.
        driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    except WebDriverException as error:
        _unavailable(f"Chromium did not start: {error.msg}")
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """The site as ``mkdocs build --strict`` writes it from this checkout."""
    folder = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{(result.stdout + result.stderr)[-4000:]}")
    return folder


def published_url(folder: pathlib.Path) -> str | None:
    """The ``site_url`` the site was built for (the shortest URL of its sitemap), or None when it has none.

    Pages built for ``https://host/project/`` use absolute links under ``/project/`` (the 404 page does),
    so the test serves the site under the same path.
    """
    sitemap = folder / "sitemap.xml"
    urls = re.findall(r"<loc>\s*(\S+?)\s*</loc>", sitemap.read_text()) if sitemap.is_file() else []
    return min(urls, key=len) if urls else None


@contextlib.contextmanager
def serve(folder: pathlib.Path, root: str = "/"):
    """Serve ``folder`` at the URL path ``root`` on a free loopback port; yields the site's URL."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path):
            path = urllib.parse.urlsplit(path).path
            if not path.startswith(root):
                return str(folder / "outside-the-site")  # answered 404, as the host would
            return super().translate_path("/" + path[len(root) :])

        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{root}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _Anchors(html.parser.HTMLParser):
    """Collects the ids (and ``<a name>``s) a page offers as link targets."""

    def __init__(self):
        super().__init__()
        self.anchors: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.anchors.add(attributes["id"])
        if tag == "a" and attributes.get("name"):
            self.anchors.add(attributes["name"])


@functools.cache
def _anchors(path: pathlib.Path) -> frozenset[str]:
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.anchors)


def page_path(html_file: pathlib.Path, folder: pathlib.Path) -> str:
    """The URL path of a built page under the site's root: ``recipes/sentiment/``, ``404.html``."""
    relative = html_file.relative_to(folder).as_posix()
    return relative.removesuffix("index.html")


def link_problem(href: str, page: str, folder: pathlib.Path, site_urls: tuple[str, ...] = (), root: str = "/"):
    """Why ``href`` on ``page`` (a path under the site's root) points nowhere in ``folder``; None when it is fine.

    ``site_urls`` are absolute URLs of the site's root (where it is served, where it is published):
    a link under one of them is checked as a link inside the site. ``root`` is the URL path of the
    site's root, against which links starting with ``/`` resolve.
    """
    local = href
    for site_url in site_urls:
        if href.startswith(site_url):
            local = root + href[len(site_url) :]
            break
    parts = urllib.parse.urlsplit(local)
    if parts.scheme or parts.netloc:
        return None  # another site, mailto:, javascript:
    path = urllib.parse.unquote(parts.path)
    if path.startswith("/"):
        if not (path + "/").startswith(root):
            return f"link {href!r} is outside the site's root {root}"
        target = posixpath.normpath(path[len(root) :] or ".")
    else:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), path or posixpath.basename(page)))
    if target == ".." or target.startswith("../"):
        return f"link {href!r} leaves the site"
    file = folder / target
    if file.is_dir() or path.endswith("/") or (not path and page.endswith("/")):
        file = file / "index.html"
    if not file.is_file():
        return f"link {href!r}: no file {file.relative_to(folder).as_posix()}"
    fragment = urllib.parse.unquote(parts.fragment)
    if fragment and file.suffix == ".html" and fragment not in _anchors(file):
        return f"link {href!r}: {file.relative_to(folder).as_posix()} has no anchor {fragment!r}"
    return None


# The one request a page may make off the site: the theme's repository link asks GitHub for the star count.
OTHER_HOSTS_ALLOWED = ("https://api.github.com/",)


def _network_problems(log: list[dict], origin: str) -> list[str]:
    """Failed or 4xx/5xx requests to ``origin`` (the local server), and requests to other hosts.

    The site must work offline, so it may load nothing (fonts, scripts) from
    elsewhere; the entries come from Chrome's performance log.
    """
    urls, problems = {}, []
    for entry in log:
        message = json.loads(entry["message"])["message"]
        method, params = message["method"], message.get("params", {})
        if method == "Network.requestWillBeSent":
            url = urls[params["requestId"]] = params["request"]["url"]
            remote = url.startswith(("http:", "https:")) and not url.startswith(origin)
            if remote and not url.startswith(OTHER_HOSTS_ALLOWED):
                problems.append(f"request to another host: {url}")
        elif method == "Network.responseReceived":
            response = params["response"]
            if response["url"].startswith(origin) and response["status"] >= 400:
                problems.append(f"request {response['url'][len(origin) :]}: HTTP {response['status']}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            url = urls.get(params["requestId"], "")
            if url.startswith(origin):
                problems.append(f"request {url[len(origin) :]}: {params['errorText']}")
    return problems


def _console_problems(log: list[dict], origin: str) -> list[str]:
    """Console errors; a failed load is left to the request check (local) or out of scope (other hosts)."""
    problems = []
    for entry in log:
        if entry["level"] != "SEVERE":
            continue
        if "Failed to load resource" in entry["message"]:
            continue
        problems.append(f"console error: {entry['message'].replace(origin, '')}")
    return problems


def check_page(driver, page: str, folder: pathlib.Path, site_urls: tuple[str, ...], root: str) -> list[str]:
    """Load one page from the site served at ``site_urls[0]`` and list what is broken on it."""
    served = site_urls[0]
    origin = served[: -len(root)]
    driver.get(served + page)
    problems = []
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href]'), (a) => a.getAttribute('href'));"
    )
    for href in dict.fromkeys(hrefs):
        problem = link_problem(href, page, folder, site_urls, root)
        if problem:
            problems.append(problem)
    for source in driver.execute_async_script(BROKEN_IMAGES_SCRIPT):
        problems.append(f"broken image {source!r}")
    problems += _network_problems(driver.get_log("performance"), origin)
    problems += _console_problems(driver.get_log("browser"), origin)
    return problems


SCROLL_SCRIPT = """
const target = document.getElementById(arguments[0]);
if (target) { target.scrollIntoView({block: "start"}); window.scrollBy(0, -72); }  // below the fixed header
return target !== null;
"""


def check_site(driver, folder: pathlib.Path, screenshots: dict[str, list] | None = None) -> list[str]:
    """Every problem on every HTML page of the built site in ``folder``, each as ``page: problem``.

    ``screenshots`` maps a page path to ``(anchor, PNG path)`` pairs: once the
    page has loaded, each anchor (or the top, for ``None``) is scrolled into
    view and the window saved.
    """
    screenshots = screenshots or {}
    published = published_url(folder)
    root = urllib.parse.urlsplit(published).path.rstrip("/") + "/" if published else "/"
    problems = []
    with serve(folder, root) as served:
        site_urls = (served, published) if published else (served,)
        for html_file in sorted(folder.rglob("*.html")):
            page = page_path(html_file, folder)
            problems += [f"{root}{page}: {problem}" for problem in check_page(driver, page, folder, site_urls, root)]
            for anchor, path in screenshots.get(page, ()):
                if anchor:
                    assert driver.execute_script(SCROLL_SCRIPT, anchor), f"{root}{page} has no #{anchor} to show"
                path.parent.mkdir(parents=True, exist_ok=True)
                assert driver.save_screenshot(str(path)), f"no screenshot of {root}{page}"
    return problems


def test_every_page_loads_cleanly_in_a_browser(browser, built_site):
    folder = pathlib.Path(os.environ.get("RNN_APPS_SCREENSHOTS") or built_site / "screenshots")
    screenshots: dict[str, list] = {}
    for name, (page, anchor) in SCREENSHOT_PAGES.items():
        assert (built_site / page / "index.html").is_file(), f"the site has no page /{page} to screenshot"
        screenshots.setdefault(page, []).append((anchor, folder / name))
    problems = check_site(browser, built_site, screenshots)
    assert not problems, f"{len(problems)} problems in the built site:\n" + "\n".join(problems)
    for name in SCREENSHOT_PAGES:
        assert (folder / name).read_bytes().startswith(b"\x89PNG"), f"{folder / name} is not a PNG"


def test_the_check_reports_each_kind_of_breakage(browser, tmp_path):
    """A hand-made site with one of every defect: each is reported, with its page, and the sound parts are not."""
    (tmp_path / "pixel.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>')
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "index.html").write_text(
        '<html><head><link rel="icon" href="data:,"></head><body><h1 id="top">Good</h1>'
        ' <a href="../">home</a> <a href="#top">top</a>'
        ' <a href="https://example.org/">elsewhere</a> <img src="../pixel.svg"></body></html>'
    )
    (tmp_path / "index.html").write_text(
        "<html><head><link rel='icon' href='data:,'><script src='missing.js'></script>"
        "<link rel='stylesheet' href='https://fonts.example.org/css?family=Roboto'></head><body>"
        '<a href="good/">fine</a> <a href="good/#top">fine anchor</a>'
        ' <a href="gone/">missing page</a> <a href="good/#nowhere">missing anchor</a>'
        ' <a href="../outside.html">outside</a>'
        ' <img src="pixel.svg"> <img src="nothing.png">'
        "<script>throw new Error('boom');</script></body></html>"
    )
    screenshot = tmp_path / "shots" / "home.png"
    problems = check_site(browser, tmp_path, {"": [(None, screenshot)]})
    text = "\n".join(problems)
    assert all(problem.startswith("/: ") for problem in problems), text
    for expected in (
        "link 'gone/': no file gone/index.html",
        "link 'good/#nowhere': good/index.html has no anchor 'nowhere'",
        "link '../outside.html' leaves the site",
        "broken image 'nothing.png'",
        "request /nothing.png: HTTP 404",
        "request /missing.js: HTTP 404",
        "console error:",
        "boom",
        "request to another host: https://fonts.example.org/css?family=Roboto",
    ):
        assert expected in text, f"{expected!r} not reported in:\n{text}"
    assert len(problems) == 8, text
    assert screenshot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("page", "href", "expected"),
    [
        ("guide/", "../api/", None),
        ("guide/", "../api/#encode", None),
        ("guide/", "#intro", None),
        ("guide/", "", None),
        ("404.html", "/project/guide/#intro", None),
        ("guide/", "https://example.org/other/", None),
        ("guide/", "https://example.org/project/api/", None),
        ("guide/", "http://127.0.0.1:8000/project/api/#encode", None),
        ("guide/", "../missing/", "link '../missing/': no file missing/index.html"),
        ("guide/", "../api/#decode", "link '../api/#decode': api/index.html has no anchor 'decode'"),
        ("guide/", "#outro", "link '#outro': guide/index.html has no anchor 'outro'"),
        ("guide/", "../../elsewhere/", "link '../../elsewhere/' leaves the site"),
        ("404.html", "/guide/", "link '/guide/' is outside the site's root /project/"),
        (
            "guide/",
            "https://example.org/project/gone/",
            "link 'https://example.org/project/gone/': no file gone/index.html",
        ),
    ],
)
def test_links_resolve_against_the_built_folder_under_the_published_path(tmp_path, page, href, expected):
    (tmp_path / "guide").mkdir()
    (tmp_path / "guide" / "index.html").write_text('<h1 id="intro">Guide</h1>')
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "index.html").write_text('<a name="encode"></a>')
    (tmp_path / "404.html").write_text("<p>Not found</p>")
    site_urls = ("http://127.0.0.1:8000/project/", "https://example.org/project/")
    assert link_problem(href, page, tmp_path, site_urls, root="/project/") == expected
