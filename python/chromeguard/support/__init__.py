"""Waiting for pages, with Selenium's names: `chromeguard.support.ui.WebDriverWait` and
`chromeguard.support.expected_conditions`."""
