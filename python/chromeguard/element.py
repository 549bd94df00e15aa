"""`By`, `Keys` and `WebElement`: elements of a page, with Selenium's semantics."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .browser import Browser

__all__ = ["ELEMENT_KEY", "By", "Keys", "WebElement"]

ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"
"""How W3C WebDriver (and chromeguard's page script) writes an element reference in JSON."""


class By:
    """Locator strategies, with the same values as Selenium's ``By`` (so either works)."""

    ID = "id"
    XPATH = "xpath"
    LINK_TEXT = "link text"
    PARTIAL_LINK_TEXT = "partial link text"
    NAME = "name"
    TAG_NAME = "tag name"
    CLASS_NAME = "class name"
    CSS_SELECTOR = "css selector"


class Keys:
    """Special keys for `WebElement.send_keys`, with Selenium's values."""

    BACKSPACE = "\ue003"
    TAB = "\ue004"
    RETURN = "\ue006"
    ENTER = "\ue007"
    ESCAPE = "\ue00c"
    SPACE = "\ue00d"
    END = "\ue010"
    HOME = "\ue011"
    LEFT = "\ue012"
    UP = "\ue013"
    RIGHT = "\ue014"
    DOWN = "\ue015"
    DELETE = "\ue017"


class WebElement:
    """An element of the page a `Browser` shows. Obtained from ``find_element(s)`` or returned
    by ``execute_script``; it goes stale (`StaleElementReferenceException`) when it leaves the
    DOM or the page changes."""

    def __init__(self, parent: Browser, id_: str, frames: tuple[str, ...] = ()) -> None:
        self._parent = parent
        self._id = id_
        self._frames = frames

    @property
    def parent(self) -> Browser:
        """The browser the element belongs to."""
        return self._parent

    @property
    def id(self) -> str:
        """The element's reference id."""
        return self._id

    def _op(self, op: str, *args: Any) -> Any:
        return self._parent._driver(op, self._id, *args, frames=self._frames)

    @property
    def tag_name(self) -> str:
        """The tag name, lower case."""
        return str(self._op("tagName"))

    @property
    def text(self) -> str:
        """The rendered text ("" when the element is not displayed)."""
        return str(self._op("text"))

    def get_attribute(self, name: str) -> str | None:
        """Selenium's ``get_attribute``: the property when it has a simple value (booleans as
        "true" or None), else the attribute."""
        value = self._op("attribute", name)
        return None if value is None else str(value)

    def get_dom_attribute(self, name: str) -> str | None:
        """The attribute as written in the HTML."""
        value = self._op("domAttribute", name)
        return None if value is None else str(value)

    def get_property(self, name: str) -> Any:
        """The DOM property (elements as `WebElement`)."""
        return self._parent._from_json(self._op("property", name), self._frames)

    def is_displayed(self) -> bool:
        """Whether the element is visible."""
        return bool(self._op("displayed"))

    def is_enabled(self) -> bool:
        """Whether the element is enabled (not disabled, not in a disabled fieldset)."""
        return bool(self._op("enabled"))

    def is_selected(self) -> bool:
        """Whether a checkbox, radio button or option is selected."""
        return bool(self._op("selected"))

    @property
    def rect(self) -> dict[str, float]:
        """x, y, width and height in CSS pixels."""
        return dict(self._op("rect"))

    def click(self) -> None:
        """Scrolls the element into view and clicks its centre with the mouse, as a user would.
        `ElementNotInteractableException` if it is hidden or disabled."""
        self._parent._click(self)

    def send_keys(self, *value: str) -> None:
        """Types into the element (`Keys` for special keys); for a file input, the values are
        paths of files to upload."""
        self._parent._send_keys(self, "".join(value))

    def clear(self) -> None:
        """Empties an input, textarea or editable element."""
        self._op("clear")

    def submit(self) -> None:
        """Submits the form the element belongs to."""
        self._op("submit")

    def find_element(self, by: str = By.ID, value: str | None = None) -> WebElement:
        """The first descendant matching the locator; `NoSuchElementException` if none."""
        return self._parent._find(by, value, root=self, many=False)[0]

    def find_elements(self, by: str = By.ID, value: str | None = None) -> list[WebElement]:
        """Every descendant matching the locator."""
        return self._parent._find(by, value, root=self, many=True)

    @property
    def screenshot_as_png(self) -> bytes:
        """A PNG of the element."""
        return self._parent._screenshot(self)

    @property
    def screenshot_as_base64(self) -> str:
        """The element's PNG, base64-encoded."""
        return base64.b64encode(self.screenshot_as_png).decode()

    def screenshot(self, filename: str) -> bool:
        """Saves a PNG of the element to `filename`."""
        with open(filename, "wb") as file:
            file.write(self.screenshot_as_png)
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WebElement) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return f"<chromeguard.WebElement {self._id}>"
