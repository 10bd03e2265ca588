"""The two template families of the development set. Family A is the one retrieval is tuned
on; family B says the same kinds of things in other words (its statements, questions, filler
and reactions are written apart), so a change that only fits A's phrasing shows up as a gap.

``say`` lines are spoken by the person the fact is about ({S}); ``ask`` lines are questions
about them, worded to share as few words with the statement as a real question would.
"""

from __future__ import annotations

SINGLE = {
    "pet_name": {
        "A": {
            "say": [
                "We finally brought home a {breed} from the rescue! We've called her {pet}.",
                "Meet {pet}, our new {breed}. Total chaos already.",
            ],
            "ask": [
                "What did {S} name the {breed} from the rescue?",
                "What is {S}'s {kind} called?",
                "What name did {S} give the new {kind}?",
            ],
        },
        "B": {
            "say": [
                "Guess who's a {breed} owner now. {pet} came home with us on Sunday.",
                "{pet} the {breed} has officially joined the household.",
            ],
            "ask": [
                "What is {S}'s {breed} called?",
                "What's the name of the {kind} {S} adopted?",
                "Who is {S}'s new pet?",
            ],
        },
    },
    "job": {
        "A": {
            "say": ["Signed the contract! I'm going to be a {role} at {employer}."],
            "ask": [
                "Which employer offered {S} a contract?",
                "What position did {S} accept?",
                "What is {S}'s new line of work?",
            ],
        },
        "B": {
            "say": ["Big news: {employer} offered me the {role} post and I said yes."],
            "ask": [
                "What post did {S} accept at {employer}?",
                "Which job offer did {S} take up?",
                "What does {S} do at the new place?",
            ],
        },
    },
    "sibling": {
        "A": {
            "say": [
                "My brother {sib} just qualified as a {profession}, the whole family is proud."
            ],
            "ask": [
                "What did {S}'s brother qualify as?",
                "What does {S}'s brother do for a living?",
            ],
        },
        "B": {
            "say": ["{sib}, my little brother, has started working as a {profession}."],
            "ask": [
                "Which of {S}'s family started work as a {profession}?",
                "What is the occupation of {S}'s younger sibling?",
            ],
        },
    },
    "allergy": {
        "A": {
            "say": ["I can't touch anything with {allergen} in it, my throat closes up."],
            "ask": [
                "What can't {S} touch because their throat closes up?",
                "Which {allergen_q} does {S} react badly to?",
            ],
        },
        "B": {
            "say": ["Had to send the plate back, there was {allergen} in it and I'm allergic."],
            "ask": [
                "Why did {S} send a plate back?",
                "What must {S} avoid eating for medical reasons?",
            ],
        },
    },
    "instrument": {
        "A": {
            "say": ["I've started {instrument} lessons on Thursday evenings, my poor neighbours."],
            "ask": [
                "What does {S} have lessons for on Thursday evenings?",
                "Which instrument is {S} learning to play?",
            ],
        },
        "B": {
            "say": ["Practised {instrument} scales for an hour and my teacher says I'm improving."],
            "ask": ["What scales is {S} practising?", "What is {S} having music lessons on?"],
        },
    },
    "car": {
        "A": {
            "say": ["Traded in the old banger for a {colour} {car}. It still smells new."],
            "ask": ["What did {S} trade the old banger for?", "What does {S} drive these days?"],
        },
        "B": {
            "say": ["Picked up the keys to my {colour} {car} today, bye bye bus pass."],
            "ask": ["What did {S} pick up the keys to?", "Which vehicle did {S} buy?"],
        },
    },
    "move": {
        "A": {
            "say": ["The flat in {hood} is ours from the first of the month!"],
            "ask": ["Where is {S}'s new flat?", "Which part of town is {S} relocating to?"],
        },
        "B": {
            "say": ["Boxes everywhere, we get the keys to the place in {hood} next week."],
            "ask": [
                "Where is the place {S} is getting the keys to?",
                "What neighbourhood will {S}'s new home be in?",
            ],
        },
    },
    "book": {
        "A": {
            "say": ["Just finished {book} for the third time, I still cry at the ending."],
            "ask": [
                "What book has {S} finished three times?",
                "Which novel does {S} keep rereading?",
            ],
        },
        "B": {
            "say": ["{book} is my comfort read, I pick it up every winter."],
            "ask": [
                "What is {S}'s comfort read in winter?",
                "What is {S}'s favourite book to return to?",
            ],
        },
    },
    "hometown": {
        "A": {
            "say": ["Growing up in {city} meant rain nine months a year."],
            "ask": ["Where did {S} grow up?", "Where was {S} raised?"],
        },
        "B": {
            "say": ["I was a kid in {city}, my parents still live in the same house there."],
            "ask": [
                "Where do {S}'s parents still live?",
                "Which city did {S} spend their childhood in?",
            ],
        },
    },
    "sport": {
        "A": {
            "say": ["I've joined a {sport} league, we play on Sunday mornings."],
            "ask": ["Which league did {S} join?", "What team sport did {S} sign up for?"],
        },
        "B": {
            "say": ["Our {sport} team lost 9-2 but the post-match pint was great."],
            "ask": ["What does {S}'s team play?", "Which game does {S} play with a local side?"],
        },
    },
    "phobia": {
        "A": {
            "say": ["I can't even look at {phobia}, I just freeze."],
            "ask": ["What can't {S} even look at?", "What is {S} terrified of?"],
        },
        "B": {
            "say": ["Honestly {phobia} are my worst nightmare, always have been."],
            "ask": ["What is {S}'s worst nightmare?", "What frightens {S} more than anything?"],
        },
    },
    "dish": {
        "A": {
            "say": ["Made {dish} from scratch on Sunday, my grandmother's recipe."],
            "ask": [
                "What did {S} make from their grandmother's recipe?",
                "Which family recipe did {S} cook?",
            ],
        },
        "B": {
            "say": ["Nobody makes {dish} like my nan did, but mine came close tonight."],
            "ask": [
                "What did {S}'s nan make best?",
                "What dish from {S}'s grandmother did they recreate?",
            ],
        },
    },
    "course": {
        "A": {
            "say": ["Enrolled in an evening course on {subject}, first class is Tuesday."],
            "ask": ["What is {S}'s evening course about?", "What is {S} studying at night school?"],
        },
        "B": {
            "say": ["My {subject} module has so much reading, I regret nothing though."],
            "ask": ["What module is {S} reading for?", "Which subject is {S} taking classes in?"],
        },
    },
    "plant": {
        "A": {
            "say": ["My {plant} finally flowered after three years of sulking!"],
            "ask": [
                "Which plant of {S}'s flowered?",
                "Which of {S}'s houseplants finally bloomed?",
            ],
        },
        "B": {
            "say": ["There are buds on the {plant}, I've been waiting forever for this."],
            "ask": ["What has buds on it at {S}'s place?", "What plant is {S} excited about?"],
        },
    },
    "volunteer": {
        "A": {
            "say": ["I volunteer at {volunteer} on Saturdays now, it's the best part of my week."],
            "ask": [
                "Where does {S} volunteer on Saturdays?",
                "Where does {S} give their time for free at weekends?",
            ],
        },
        "B": {
            "say": ["Did my shift at {volunteer} this morning, we were rushed off our feet."],
            "ask": [
                "Where did {S} do a shift this morning?",
                "Which cause does {S} help out with unpaid?",
            ],
        },
    },
    "tattoo": {
        "A": {
            "say": ["Got a little {tattoo} inked on my wrist, it barely hurt."],
            "ask": ["What did {S} get inked on their wrist?", "What design did {S} get tattooed?"],
        },
        "B": {
            "say": ["The {tattoo} on my ankle has healed, I love it."],
            "ask": ["What is the tattoo on {S}'s ankle?", "What picture is on {S}'s skin now?"],
        },
    },
    "language": {
        "A": {
            "say": ["Three months into {language} on the app and I can order coffee!"],
            "ask": [
                "What language is {S} learning on the app?",
                "Which foreign language is {S} practising?",
            ],
        },
        "B": {
            "say": ["My {language} tutor says my pronunciation is getting there."],
            "ask": [
                "Which language does {S} have a tutor for?",
                "What language is {S} trying to speak?",
            ],
        },
    },
}

# Facts that a multi-hop question joins: ``first`` names the link (a person, a pet, a place),
# ``second`` says something about the link without the first fact's words.
MULTI = {
    "giver": {
        "A": {
            "first": "My {relation} {rel} gave me this {object} when I graduated.",
            "second": "{rel} has moved to {city}, so I'll hardly see {pron} now.",
            "ask": [
                "Where does the relative who gave {S} the {object_q} live now?",
                "What did {S}'s {relation} who lives in {city} once give them?",
            ],
        },
        "B": {
            "first": "This {object} used to belong to my {relation} {rel}, it was a present.",
            "second": "Helped {rel} pack up the house, {pron_s} off to {city} for good.",
            "ask": [
                "Which city is the family member who handed down {S}'s {object_q} settling in?",
                "What heirloom did {S} get from the relative relocating to {city}?",
            ],
        },
    },
    "pet_vet": {
        "A": {
            "first": None,  # the pet_name fact
            "second": "{pet} swallowed {swallowed} and we spent all night at the emergency vet.",
            "ask": ["What breed is the animal of {S}'s that ate {swallowed_q}?"],
        },
        "B": {
            "first": None,
            "second": "Emergency vet trip, {pet} wolfed down {swallowed}. Fine now, thankfully.",
            "ask": ["What kind of {kind} needed treatment after eating {swallowed_q}?"],
        },
    },
    "manager": {
        "A": {
            "first": "My new manager {boss} used to be a {old_job}, can you imagine.",
            "second": "{boss} is making the whole team do {routine}.",
            "ask": ["What did the boss who introduced {routine_q} at {S}'s work do before?"],
        },
        "B": {
            "first": "Turns out {boss}, who runs our department, was a {old_job} for ten years.",
            "second": "Now {boss} wants {routine} from all of us, I could scream.",
            "ask": ["What was the earlier career of the person forcing {routine_q} on {S}?"],
        },
    },
    "friend_shop": {
        "A": {
            "first": "My friend {friend} from school has opened a {shop}!",
            "second": "Went to {friend}'s place on {street} yesterday, queue out the door.",
            "ask": ["On which street is the {shop_q} that {S}'s old classmate opened?"],
        },
        "B": {
            "first": "{friend} quit the bank and started a {shop}, brave or what.",
            "second": "{friend} got the lease sorted, the shop will be on {street}.",
            "ask": ["Where is the new business of {S}'s friend who left banking?"],
        },
    },
    "sibling_wedding": {
        "A": {
            "first": None,  # the sibling fact
            "second": "{sib} is getting married at {venue} next summer!",
            "ask": ["Where will {S}'s {profession_q} sibling tie the knot?"],
        },
        "B": {
            "first": None,
            "second": "Wedding planning with {sib} is intense, they've booked {venue}.",
            "ask": ["What venue did the brother of {S} who works as a {profession_q} choose?"],
        },
    },
    "neighbour": {
        "A": {
            "first": "Our neighbour {friend} is a {profession}, handy to know.",
            "second": "{friend} lent us {tool} at the weekend, lifesaver.",
            "ask": ["What does the neighbour who lent {S} {tool_q} do for work?"],
        },
        "B": {
            "first": "{friend} next door works as a {profession}, we only just found out.",
            "second": "Borrowed {tool} from {friend} again, I owe them a bottle of wine.",
            "ask": ["What is the job of the person next door who keeps lending {S} {tool_q}?"],
        },
    },
    "trip_souvenir": {
        "A": {
            "first": "We're off to {city} in {month}, flights are booked!",
            "second": "Brought back {souvenir} from {city}, it's on the shelf now.",
            "ask": ["What did {S} bring home from the {month} holiday?"],
        },
        "B": {
            "first": "Booked a week in {city} for {month}, I can't wait.",
            "second": "In {city} I found {souvenir} at a tiny market stall.",
            "ask": ["Which souvenir did {S} pick up on their trip to {country}?"],
        },
    },
}

# Events told with a relative date; questions ask when, or what happened on a date.
EVENTS = [  # (statement, family A paraphrase, family B paraphrase)
    ("ran my first half marathon", "complete a 21-kilometre race", "finish a long road race"),
    ("had two wisdom teeth pulled", "have dental surgery", "get teeth taken out"),
    ("passed my driving test", "get their driving licence", "qualify to drive"),
    ("locked myself out of the flat", "get stuck outside their home", "lose access to the flat"),
    ("saw a pod of dolphins from the ferry", "spot sea mammals from a boat", "see marine life"),
    ("came off my bike on the roundabout", "have a cycling accident", "crash while riding"),
    ("got my ears pierced", "get new piercings", "have jewellery holes done"),
    ("lost my wallet on the night bus", "misplace their purse on a bus", "lose their cards"),
    ("won the pub quiz with my work lot", "take first prize at trivia", "win a quiz night"),
    ("baked a three-tier cake for a wedding", "make a celebration bake", "bake for a marriage"),
    ("painted the whole kitchen sage green", "redecorate a room", "repaint at home"),
    ("got stung by a wasp on my eyelid", "get an insect sting on the face", "get stung"),
    ("fell off a ladder clearing the gutters", "take a tumble doing house jobs", "fall at home"),
    ("got a parking fine outside the hospital", "receive a ticket for the car", "get fined"),
    ("sold my old sofa online", "get rid of furniture", "sell the couch"),
    ("donated blood for the first time", "give blood", "become a blood donor"),
    ("got caught in a hailstorm on the hills", "get stuck in bad weather hiking", "get hailed on"),
    ("moved my mum into her new care home", "help a parent relocate", "settle a parent in"),
    ("finished a thousand-piece jigsaw", "complete a big puzzle", "finish a puzzle"),
    ("went to a silent disco", "dance at a headphone party", "go out dancing"),
    ("cracked my phone screen", "break their mobile", "damage a phone"),
    ("met my favourite author at a signing", "meet a writer they admire", "get a book signed"),
]

# Relative dates (the phrase, days before the session date or a weekday rule).
RELATIVE = {
    "A": [
        ("yesterday", 1),
        ("two days ago", 2),
        ("this morning", 0),
        ("on Saturday", "sat"),
        ("three days ago", 3),
        ("last night", 1),
    ],
    "B": [
        ("the day before yesterday", 2),
        ("yesterday evening", 1),
        ("earlier today", 0),
        ("last Sunday", "sun"),
        ("four days ago", 4),
        ("on Tuesday", "tue"),
    ],
}
TELL = {
    "A": ["Oh, and {rel} I {event}.", "So {rel} I {event}, as you do."],
    "B": ["Forgot to say, I {event} {rel}.", "Update: {rel} I {event}!"],
}
TEMPORAL_ASK = {
    "A": {
        "when": "When did {S} {para}?",
        "on": "What did {S} do on {date}?",
        "period": "What happened with {S} in {period} {month}?",
        "order": "Which came first for {S}: {para1}, or {para2}?",
    },
    "B": {
        "when": "On what date did {S} {para}?",
        "on": "Anything notable happen to {S} on {date}?",
        "period": "What was {S} up to in {period} {month}?",
        "order": "Which did {S} do earlier, {para1} or {para2}?",
    },
}
# How family A and B write absolute dates in questions.
DATE_FORMATS = {
    "A": ["{day} {month} {year}", "{weekday} {day} {month}"],
    "B": ["{month} {day_th}, {year}", "the {day_th} of {month}"],
}

# Open-domain: answered by an inference from what was said.
INFER = {
    "A": {
        "gift": "Would {S} appreciate {gift} as a present?",
        "trip": "Would {S} enjoy a holiday to {trip}?",
        "pastime": "What does {S} like to do in their free time?",
        "diet": "Would {S} order {avoid_dish} at a restaurant?",
        "career": "Could {S} see themselves {career} one day?",
        "petperson": "Is {S} more of a {kind} person?",
        "fear": "Would {S} enjoy {fear_activity}?",
    },
    "B": {
        "gift": "Is {gift} a good birthday idea for {S}?",
        "trip": "If {O} suggested a trip to {trip}, would {S} be keen?",
        "pastime": "How does {S} spend their weekends?",
        "diet": "Should {O} cook {avoid_dish} when {S} comes to dinner?",
        "career": "What field might {S} move into later?",
        "petperson": "Does {S} prefer {kind}s to other animals?",
        "fear": "Would {S} be happy about {fear_activity}?",
    },
}
FEAR_ACTIVITIES = {
    "spiders": "a tour of the bug house at the zoo",
    "heights": "a glass-floored skywalk",
    "deep water": "a snorkelling trip off a boat",
    "wasps": "a picnic by the bins in August",
    "clowns": "a night at the circus",
    "lifts": "a hotel room on the thirtieth floor",
    "needles": "getting a flu jab",
    "moths": "camping with a lantern",
}

# After a statement, the other person reacts (by mood).
REACT = {
    "A": {
        "good": ["No way, congratulations!", "That's brilliant news!", "Love that for you."],
        "bad": ["Oh no, are you okay?", "Ugh, that's rotten luck.", "That sounds awful, sorry."],
        "neutral": ["Ha, nice.", "Oh really? Tell me more.", "Fair enough!", "Ooh."],
    },
    "B": {
        "good": ["Amazing!! So happy for you.", "Yesss, finally!", "Well deserved."],
        "bad": ["Poor you, that's horrible.", "Yikes. Hope it gets better.", "Oof, nightmare."],
        "neutral": ["Interesting!", "Haha classic.", "Go on...", "Makes sense."],
    },
}
MOOD = {
    "pet_name": "good",
    "job": "good",
    "sibling": "good",
    "allergy": "neutral",
    "instrument": "neutral",
    "car": "good",
    "move": "good",
    "book": "neutral",
    "hometown": "neutral",
    "sport": "neutral",
    "phobia": "neutral",
    "dish": "good",
    "course": "good",
    "plant": "good",
    "volunteer": "good",
    "tattoo": "good",
    "language": "good",
}

# Chit-chat: (opening line, reply). {friend}, {show}, {food}, {weekday} are filled in.
FILLER = {
    "A": [
        ("Hey you! How's your week been?", "Long. Very long. But I'm surviving."),
        ("Did you watch {show} last night?", "Not yet, don't you dare spoil it."),
        ("What's for dinner tonight?", "Probably {food}, I can't be bothered to cook."),
        ("It has not stopped raining all day.", "Same here, the garden is a swamp."),
        ("Work is driving me up the wall.", "Want to rant? I'm all ears."),
        ("I'm so tired, I slept terribly.", "Ugh, the worst. Coffee?"),
        ("Any plans for the weekend?", "Nothing at all and I'm thrilled about it."),
        ("{friend} says hi, by the way.", "Aw, say hi back!"),
        ("I think I'm coming down with a cold.", "Lemon, honey and an early night."),
        ("Just got home, what a day.", "Put your feet up, you've earned it."),
        ("Have you tried that new place on the high street?", "Not yet, is it any good?"),
        ("My inbox is a disaster.", "Declare bankruptcy, delete the lot."),
        ("I need a holiday so badly.", "Don't we all."),
        ("{weekday} already, where did the week go?", "No idea, it vanished."),
        ("Random question, tea or coffee?", "Tea, obviously. What kind of question is that."),
        ("I finally cleaned the fridge.", "Brave. What did you find in there?"),
        ("The train was late again this morning.", "Of course it was."),
        ("Good morning!", "Morning! Sleep well?"),
        ("I can't decide what to watch next.", "Have you seen {show}? It's great."),
        ("Ate way too much {food} last night.", "Zero regrets though, right?"),
        ("It's finally sunny here!", "Jealous, it's grey as anything here."),
        ("My phone battery dies so fast now.", "Time for an upgrade maybe."),
        ("Do you ever just stare at the wall for twenty minutes?", "Daily. It's self care."),
        ("{friend} and I are thinking of a quiz team.", "Count me in if you need a sixth."),
    ],
    "B": [
        ("Hiya, what are you up to?", "Not much, just pottering about."),
        ("Are you keeping up with {show}?", "I'm two episodes behind, no spoilers!"),
        ("I've got {food} in the oven.", "Save me some!"),
        ("The wind is mental today.", "My bins ended up in next door's garden."),
        ("Meetings all afternoon, kill me.", "Sending strength."),
        ("Didn't get a wink of sleep.", "Nap at lunch, it's allowed."),
        ("What are you doing Saturday?", "Laundry and absolutely nothing else."),
        ("Bumped into {friend} in town.", "Oh how are they doing?"),
        ("My throat is scratchy, hope it's nothing.", "Drink loads of water."),
        ("Home at last!", "Finally, hope the commute wasn't too bad."),
        ("There's a new café where the post office used to be.", "Ooh, we should try it."),
        ("I have four hundred unread emails.", "That's nothing, I have two thousand."),
        ("Counting down the days to some time off.", "Same, I'm running on fumes."),
        ("How is it {weekday} already?", "Time is fake."),
        ("I've switched to decaf.", "Who even are you anymore."),
        ("Spent the evening sorting out the cupboard under the stairs.", "Very productive."),
        ("Bus broke down on the way in.", "Classic. Did you get in on time?"),
        ("Morning, sunshine.", "Morning! Ready for the day?"),
        ("Scrolling for something to watch, nothing appeals.", "Try {show}, I loved it."),
        ("I made {food}, pretty proud of myself.", "Look at you, chef."),
        ("Blue skies for once!", "Make the most of it, rain tomorrow apparently."),
        ("My laptop keeps freezing.", "Have you tried turning it off and on again?"),
        ("Feeling a bit flat today.", "Want to talk about it, or want distraction?"),
        ("{friend} wants us all to go bowling.", "I'm terrible at bowling but I'm in."),
    ],
}
OPEN = {
    "A": [("Hey!", "Hey, how are you doing?"), ("Hi hi", "Heyyy, long time.")],
    "B": [("Evening!", "Oh hello, how's things?"), ("Yo", "Hey stranger.")],
}
CLOSE = {
    "A": [("Anyway, I'd better go.", "Talk soon!"), ("Right, bedtime for me.", "Night night!")],
    "B": [("Gotta run, chat later?", "Sure, bye!"), ("Okay, signing off.", "Speak soon x")],
}
# Lines about other people's things: the words of the facts, attributed to someone else.
DECOYS = {
    "A": [
        "{friend}'s {breed} howls every time the bins go out.",
        "{friend} is thinking about retraining as a {profession}.",
        "Saw a {colour} {car} exactly like the one {friend} wanted.",
        "{friend} says {city} is overrated, but I'd still go.",
        "There was a documentary on about {subject} last night.",
        "{friend} tried {dish} at a restaurant and hated it.",
        "The café had a poster for {instrument} lessons.",
        "{friend} keeps sending me videos of {phobia}, why.",
        "Apparently {hood} has the best market on Sundays.",
        "{friend} wants a {tattoo} tattoo but is too scared.",
        "Someone at work is learning {language} too.",
        "{friend} read {book} and didn't get the hype.",
        "There's a {shop} opening near the station.",
        "{friend}'s {relation} is a nightmare, apparently.",
        "My colleague's kid plays {sport} every weekend.",
    ],
    "B": [
        "The {breed} across the road escaped again, whole street chasing it.",
        "My dentist's daughter wants to be a {profession}.",
        "A {colour} {car} cut me up at the lights.",
        "{friend} has just got back from {city}, looked amazing.",
        "I keep getting adverts for courses in {subject}.",
        "There was {dish} at the work canteen, surprisingly decent.",
        "{friend}'s kid is learning {instrument}, the poor parents.",
        "A friend of a friend is scared of {phobia}, it's quite sweet.",
        "Rent in {hood} has gone through the roof.",
        "Saw a guy with a massive {tattoo} tattoo on the bus.",
        "My barber speaks {language}, he's teaching me rude words.",
        "The book club is doing {book} next, not my choice.",
        "Did you know there's a {shop} on the corner now?",
        "{friend} lost their {object} on holiday.",
        "Our office has a {sport} team, I'm staying well clear.",
    ],
}
# Small variations so the same chit-chat line is rarely word for word the same.
LEADS = {
    "A": ["", "", "", "So, ", "Honestly, ", "Ugh, ", "Okay so ", "Oh, "],
    "B": ["", "", "", "Right, ", "Ah, ", "Well, ", "Hmm, ", "God, "],
}
TAILS = {
    "A": ["", "", "", " Haha.", " Anyway.", " lol", " Seriously.", " Typical."],
    "B": ["", "", "", " x", " :)", " Ha.", " To be fair.", " Meh."],
}
