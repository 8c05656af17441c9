"""History: what happened before cobot listened, imported quietly (GH Archive files, forges' APIs)."""
