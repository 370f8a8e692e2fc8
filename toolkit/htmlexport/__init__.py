"""Static HTML export of notebooks and widgets that renders anywidgets offline.

``notebook_to_html`` exports an executed notebook; ``widget_to_html`` writes one widget's
view from its saved state. Both inline ``anywidget_host.js``, a kernel-free implementation
of the anywidget front-end model API, and load nothing from the network. This package works
on plain widget-state JSON (``STATE_MIME``, the notebook's widget-state metadata, and
``VIEW_MIME``, a widget view output) and never imports ``widgets``. Everything in
``__all__`` loads on first use.
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.htmlexport.host import STATE_MIME, VIEW_MIME, widget_to_html
    from toolkit.htmlexport.notebook import notebook_to_html

__all__ = ["STATE_MIME", "VIEW_MIME", "notebook_to_html", "widget_to_html"]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
