"""电子监察 and 限时办结: the clocks of cases and tasks, notices, special procedures, 督办, and the supervision figures.

Imports the runtime and the window rules, never the other way round: the service layer knows only the hooks it
offers (`limits`, `observers`, `timer_holds`).
"""
