"""Unit-test settings: draw figures off screen."""

import matplotlib

matplotlib.use("Agg")
