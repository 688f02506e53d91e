"""Views of the terminal and handheld screens: parse input, call services and selectors, render."""
