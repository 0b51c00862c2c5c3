"""The lab's manager poll (tests/fixtures/moodle/scenario.json ``poll``): LEAD100's
Feedback "What should training solve for your team?" and the two answers it holds."""

from __future__ import annotations

from collections.abc import Callable

from .model import Activity, Feedback, FeedbackCompleted, FeedbackItem, Scenario

#: when the lab's manager poll was built and answered (scenario.json ``poll``)
POLL_BUILT = 1796092881
POLL_PROBLEMS = (
    "Customers don't feel heard",
    "We don't find out what the customer needs",
    "Objections derail the call",
    "Calls end without a clear next step",
)
POLL_IMPACT = ("Not at all", "A little", "Somewhat", "A lot", "Very much")


def seed_poll(state: Scenario, shift: Callable[[int], int]) -> None:
    """LEAD100's Feedback "What should training solve for your team?" (feedback 1,
    cmid 14): mgr1 (user 5) and mgr2 (user 6) answered, mgr3 and mgr4 did not."""
    state.activities[14] = Activity(
        14, 4, "feedback", 1, 0, "What should training solve for your team?", 0, 58
    )
    impact = "|".join(f"{n}####{n} - {text}" for n, text in enumerate(POLL_IMPACT, start=1))
    state.feedbacks[1] = Feedback(
        id=1,
        cmid=14,
        course=4,
        name="What should training solve for your team?",
        intro="<p>We are planning the next round of Customer Conversations (CC101) training. "
        "Tell us which problems it should solve for your team. Your answers are "
        "<strong>not anonymous</strong>: the training team may follow up with you.</p>",
        anonymous=2,
        multiple_submit=False,
        page_after_submit="Thank you - the training team will use your answers to plan the next sessions.",
        timemodified=shift(POLL_BUILT),
        idnumber="LEAD100-poll",
        items=[
            FeedbackItem(
                1,
                "multichoice",
                1,
                "problems",
                "Which problems do you see most in your team's customer conversations?",
                "c>>>>>" + "|".join(POLL_PROBLEMS),
                True,
                "h",
            ),
            FeedbackItem(
                2,
                "multichoicerated",
                2,
                "impact",
                "How much would better conversations help your team's results?",
                f"r>>>>>{impact}<<<<<1",
                True,
                "h",
            ),
            FeedbackItem(
                3, "textarea", 3, "other", "Anything else training should fix?", "60|5", False
            ),
        ],
        completed=[
            FeedbackCompleted(
                1,
                5,
                shift(POLL_BUILT),
                {
                    1: "1|4",
                    2: "5",
                    3: "Team leads can&#039;t coach what they can&#039;t hear - we need "
                    "call-recording reviews &amp; short role-plays on closing.",
                },
            ),
            FeedbackCompleted(2, 6, shift(POLL_BUILT), {1: "3", 2: "4", 3: ""}),
        ],
    )
    state.next_ids["feedback_completed"] = 3
