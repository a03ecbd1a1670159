"""Architecture principles as code: catalogue, rules, waivers and the report they produce."""
