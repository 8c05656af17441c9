"""What counts as what, once for every view: which logged events make someone a contributor, and how the totals
of a person's record are named."""

# What makes someone a contributor (a star or a fork does not; nor does merging someone else's PR).
CONTRIBUTION_KINDS = ("issue.opened", "pr.opened", "comment.created", "comment.diff", "comment.review",
                      "review.submitted", "push")
TOTAL_KINDS = {"issue.opened": "issues_opened", "pr.opened": "prs_opened", "review.submitted": "reviews",
               "comment.created": "comments"}
