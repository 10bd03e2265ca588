"""Hobbies for the inference questions: how a person talks about one (family A's lines, then
family B's), and things it suggests that the lines never name (a gift, a trip)."""

from __future__ import annotations

HOBBIES = [
    {
        "name": "climbing",
        "A": [
            "Spent three hours at the bouldering wall, my fingertips are raw.",
            "Finally sent the overhang problem I've been stuck on for weeks!",
            "My forearms are so pumped I can barely hold this phone.",
        ],
        "B": [
            "Bought new chalk and a brush for scrubbing the holds.",
            "Thinking about an outdoor crag trip when the rock dries out.",
            "The setters changed every route at the wall, so annoying.",
        ],
        "gift": "a pair of rock shoes",
        "trip": "the Dolomites",
    },
    {
        "name": "birdwatching",
        "A": [
            "Saw a kingfisher on the canal this morning, electric blue!",
            "Sat in the hide for two hours and finally spotted the marsh harrier.",
            "My binoculars fogged up right when the owl appeared.",
        ],
        "B": [
            "Ticked off my hundredth species of the year.",
            "The swifts are back, I could watch them screaming over the roofs all evening.",
            "Did the winter count at the reservoir, forty-two goldeneye.",
        ],
        "gift": "a field guide to European species",
        "trip": "a wetland nature reserve",
    },
    {
        "name": "pottery",
        "A": [
            "Threw my first proper bowl on the wheel without it collapsing!",
            "The kiln cracked two of my mugs, gutted.",
            "Clay under my nails for the whole week, worth it.",
        ],
        "B": [
            "Glazing day at the studio, everything came out speckled blue.",
            "Trimming the feet of my pots is so meditative.",
            "Signed up for another term at the ceramics studio.",
        ],
        "gift": "a set of sculpting tools",
        "trip": "a craft fair",
    },
    {
        "name": "baking",
        "A": [
            "My starter is finally bubbly enough to bake with!",
            "The loaf had a proper ear this time, I nearly cried.",
            "Got flour all over the kitchen again, but the crumb was perfect.",
        ],
        "B": [
            "Fed the starter at midnight like a lunatic.",
            "Experimenting with rye and spelt this weekend.",
            "Left the dough to prove overnight in the fridge.",
        ],
        "gift": "a banneton basket",
        "trip": "a weekend course at an artisan bread school",
    },
    {
        "name": "astronomy",
        "A": [
            "Stayed up till 3am to catch Saturn's rings through the scope.",
            "Clear skies tonight, finally! Heading out to the dark site.",
            "Got a decent shot of the Orion nebula.",
        ],
        "B": [
            "The Perseids were spectacular from up on the hill.",
            "Collimated the mirrors, took me ages.",
            "Light pollution in town is killing me, I can barely see Andromeda.",
        ],
        "gift": "a planisphere",
        "trip": "a dark-sky park",
    },
    {
        "name": "knitting",
        "A": [
            "Finished the left sleeve, only the right one to go!",
            "Dropped a stitch six rows back and had to rip the whole lot out.",
            "Bought the most gorgeous merino yarn at the market.",
        ],
        "B": [
            "Cabling is hard but I'm getting there.",
            "Made a hat for my nephew and he actually wears it.",
            "Casting on a new jumper tonight.",
        ],
        "gift": "a skein of alpaca wool",
        "trip": "a wool festival",
    },
    {
        "name": "cycling",
        "A": [
            "Did sixty miles over the hills on Sunday, legs destroyed.",
            "Got a puncture miles from anywhere and fixed it with numb fingers.",
            "New cleats finally clicked in without me toppling over at the lights.",
        ],
        "B": [
            "Joined the club ride, they are terrifyingly fast.",
            "Made it up the col without stopping for once.",
            "Cleaning the chain is my Saturday ritual now.",
        ],
        "gift": "padded bib shorts",
        "trip": "a road tour through the Alps",
    },
    {
        "name": "chess",
        "A": [
            "Lost on time again in a winning position, classic me.",
            "Finally got my online rating over 1600.",
            "Studying the Caro-Kann, it suits my style.",
        ],
        "B": [
            "Played in the club league last night, drew with the captain.",
            "Puzzle rush before bed is my vice.",
            "Went to a simultaneous exhibition and lasted forty moves against the master.",
        ],
        "gift": "a wooden tournament board with weighted pieces",
        "trip": "a grandmaster tournament",
    },
    {
        "name": "surfing",
        "A": [
            "Paddled out at dawn, the swell was perfect.",
            "Got absolutely pummelled by a set wave.",
            "Caught my first green wave without the instructor!",
        ],
        "B": [
            "Waxed the board, wetsuit drying on the line.",
            "The water was freezing this morning but so worth it.",
            "Checked the tide tables all week for the right window.",
        ],
        "gift": "a new wetsuit",
        "trip": "a week in Biarritz",
    },
    {
        "name": "gardening",
        "A": [
            "Pulled the first courgettes from the allotment.",
            "Slugs ate all my lettuces overnight.",
            "Spent the afternoon double-digging the raised beds.",
        ],
        "B": [
            "Tomatoes are ripening on the windowsill at last.",
            "The compost heap is steaming, I'm very proud.",
            "Sowed the broad beans just before the frost.",
        ],
        "gift": "a pair of pruning secateurs",
        "trip": "the Chelsea flower show",
    },
    {
        "name": "jazz records",
        "A": [
            "Found a first pressing of Kind of Blue at the car boot sale!",
            "Spent the whole evening with Coltrane on the turntable.",
            "My stylus needs replacing, the crackle is awful.",
        ],
        "B": [
            "The crate-diggers fair was full of bargains.",
            "Went to the cellar club, the trio was unreal.",
            "Alphabetised all my LPs, don't judge.",
        ],
        "gift": "a new cartridge for the deck",
        "trip": "the Montreux festival",
    },
    {
        "name": "woodworking",
        "A": [
            "Cut my first dovetail joint by hand.",
            "The garage smells of sawdust and linseed oil.",
            "Built a little stool for the kitchen.",
        ],
        "B": [
            "Sharpened all my chisels this weekend.",
            "Planing oak is such hard work.",
            "Made a chopping board for my mum's birthday.",
        ],
        "gift": "a Japanese pull saw",
        "trip": "a timber-framing course",
    },
    {
        "name": "running",
        "A": [
            "Did a 10k before breakfast.",
            "Hit a new personal best at parkrun!",
            "My shins are complaining after the hill repeats.",
        ],
        "B": [
            "New trainers are so bouncy.",
            "Signed up for a trail race in the autumn.",
            "Ran along the river at sunrise, nobody else around.",
        ],
        "gift": "a GPS sports watch",
        "trip": "a marathon abroad",
    },
    {
        "name": "watercolour",
        "A": [
            "Painted the harbour at sunset and the sky actually worked.",
            "My washes keep going muddy.",
            "Bought a travel palette for sketching outdoors.",
        ],
        "B": [
            "Spent all Sunday painting the bluebells.",
            "Wet-on-wet is magic when it works.",
            "Framed one of my paintings for the hallway.",
        ],
        "gift": "a set of sable brushes",
        "trip": "a plein-air course in Provence",
    },
]
