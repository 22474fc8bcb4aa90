"""Meta's Graph API (META_GRAPH_API_URL = {base}/sandbox/graph/v25.0; any version
works), its file hosts (WhatsApp's media, Messenger's and Instagram's CDN), the Meta app
dashboard, and WhatsApp's pages of the sandbox."""

from django.urls import path, re_path

from . import graph, instagram, views, whatsapp

urlpatterns = [
    path(
        "whatsapp/templates/<str:waba_id>/status",
        whatsapp.template_status,
        name="whatsapp_template_status",
    ),
    path(
        "graph/whatsapp_business/attachments/",
        graph.whatsapp_media_download,
        name="whatsapp_media_download",
    ),
    path("graph/fbcdn/<str:ref>.jpg", graph.messenger_attachment, name="messenger_attachment"),
    path(
        "graph/ig_messaging_cdn/<str:ref>.jpg",
        graph.instagram_attachment,
        name="instagram_attachment",
    ),
    re_path(
        r"^graph/(?P<version>v[0-9]+\.[0-9]+)/(?P<node_id>[A-Za-z0-9_.-]+)/?$",
        graph.node,
        name="graph_node",
    ),
    re_path(
        r"^graph/(?P<version>v[0-9]+\.[0-9]+)/(?P<node_id>[A-Za-z0-9_.-]+)/(?P<edge_name>[a-z_]+)/?$",
        graph.edge,
        name="graph_edge",
    ),
    path("phone/brazilian", whatsapp.brazilian, name="phone_brazilian"),
    path("phone/instagram/", instagram.customer_actions, name="instagram_chats"),
    path("phone/instagram/<int:pk>/", instagram.customer_actions, name="instagram_actions"),
    path("phone/instagram/<int:pk>/react", instagram.react, name="instagram_react"),
    path("phone/instagram/<int:pk>/unsend", instagram.unsend, name="instagram_unsend"),
    path("meta/app/", views.meta_dashboard, name="meta_dashboard"),
]
