"""Static HTML export of notebooks and widgets that renders anywidgets offline.

``notebook_to_html`` exports an executed notebook; ``widget_to_html`` writes one widget's
view from its saved state. Both inline ``anywidget_host.js``, a kernel-free implementation
of the anywidget front-end model API, and load nothing from the network. This package works
on plain widget-state JSON and never imports ``widgets``.
"""

from toolkit.htmlexport.host import STATE_MIME, VIEW_MIME, widget_to_html
from toolkit.htmlexport.notebook import notebook_to_html

__all__ = ["STATE_MIME", "VIEW_MIME", "notebook_to_html", "widget_to_html"]
