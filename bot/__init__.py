"""cobot: a community-operations toolkit and contributor-engagement bot for GitHub and Gitee."""
