"""Priya (leaves software for a plant shop) and Callum (a firefighter with twin girls)."""

PRIYA = """
##
>job1| Another sprint planning meeting that could have been an email. I've been staring at the same login bug for three days, I think the code is staring back.
<Ha. Still at the bank app place?
>job2| Still there. Five years of fixing other people's payment screens. Some days I fantasise about doing anything with my hands instead.
##
>miso1| Miso knocked a whole mug of tea onto my laptop this morning and then looked at me like it was my fault.
<Who's Miso?
>miso2| My cat! Ginger, enormous, answers to nothing. I got him from my neighbour's accidental litter two years ago.
##
>plants1| I've run out of windowsills. There are now forty-one plants in the flat, I counted. The monstera has eaten the corner of the living room.
<Forty-one!! How do you keep them alive? I kill cacti.
>plants2| Talk to them, rain water, and never repot in winter. Also Miso eats the spider plant so that one lives on top of the wardrobe.
##
>parents1| Went up to Leicester to see Mum and Dad over the weekend. Mum packed me three tubs of dal for the train like I don't own a stove.
<Haha, mums. Do they know you're thinking of leaving the job?
>parents2| God no. Dad still tells his friends I "work in computers at a bank" like it's the most respectable thing on earth.
##
>quit1| I handed my notice in. I'm doing it, I'm opening a plant shop. There's an empty unit by the station that used to be a key cutter's.
<PRIYA. Amazing. Terrifying. Amazing!
>quit2| My savings will cover about a year if I live on rice. Miso will have to downgrade his food too.
##
>pottery1| Started a pottery evening class on Wednesdays. My first bowl looks like a collapsed hat but the teacher says everyone's does.
<Ha, I'd love to see it!
>pottery2| I want to make my own pots for the shop eventually. Hand-made pots sell for silly money.
##
>parents3| Told my parents about the shop last night. Dad went quiet for ten minutes and then asked whether plants have a pension plan.
<Ouch. And your mum?
>parents4| Mum has already told the whole aunties' group chat and wants to do the opening with a coconut for luck.
##
>shop1| We open on Saturday! The shop is called Root & Branch. I painted the sign myself, it's slightly wonky but so am I.
<I'll be there first thing!
##
>veg| Had a customer ask me for a bacon sandwich recommendation nearby and I had no idea, I haven't eaten meat since I was fourteen.
<Ha, what made you stop at fourteen?
>veg2| A school trip to a farm. One lamb looked me in the eye and that was it.
##
>shop2| Three months in and I'm just about breaking even. The succulents in my hand-thrown pots are what sells, people go crazy for them.
<See, the pottery paid off!
##
>move1| Moving flats next month, the new one has a balcony! Miso is going to lose his mind, all those pigeons.
<A balcony for the plants too!
>move2| Exactly, I've already promised the tomatoes a spot in the sun.
##
>miso3| Miso went missing for two days after the move. Found him last night asleep in the airing cupboard of the flat downstairs.
<Oh thank god. You must have been frantic.

? single-hop | What did Priya do for a living before the shop? | job1 job2
? single-hop | What does Priya's cat look like? | miso2
? single-hop | Where did Priya get her cat? | miso2
? single-hop | How many plants does Priya have at home? | plants1
? single-hop | Why is one plant kept on top of the wardrobe? | plants2
? single-hop | Where do Priya's parents live? | parents1
? single-hop | What did Priya's father think of her new business? | parents3
? single-hop | What is Priya's shop called? | shop1
? single-hop | What did the shop's building used to be? | quit1
? single-hop | How will Priya pay her bills while the shop starts? | quit2
? single-hop | What does Priya hope to use her pottery for? | pottery2
? single-hop | Why did Priya stop eating meat? | veg2
? single-hop | Which products sell best at Priya's shop? | shop2
? single-hop | Where was the cat found after he went missing? | miso3
? single-hop | What does Priya's mother want to do at the opening? | parents4
? temporal | When did Priya visit her parents in Leicester? | parents1
? temporal | When did Priya tell her parents about the shop? | parents3
? temporal | When did Priya start the pottery class? | pottery1
? temporal | When did Priya find Miso again? | miso3
? temporal | When did the cat spill tea on her laptop? | miso1
? multi-hop | How did Priya's career change this year? | job2 quit1 shop1
? multi-hop | What has Priya's cat done to cause trouble? | miso1 plants2 miso3
? multi-hop | How have Priya's parents reacted to her choices? | parents2 parents3 parents4
? multi-hop | How does Priya's hobby help her business? | pottery2 shop2
? open-domain | Would Priya enjoy a steakhouse dinner for her birthday? | veg veg2
? open-domain | What would be a good housewarming gift for Priya? | plants1 move2
? open-domain | Is Priya a risk taker? | quit1 quit2
? open-domain | Was Priya happy working as a developer? | job2
? open-domain | Is Priya's new flat better for her plants? | move1 move2
"""

CALLUM = """
##
>job1| Long one last night, a chip pan fire in a block of flats. Everyone got out, but I still smell of smoke after two showers.
<Bloody hell. Is that a normal night for you?
>job2| Not normal, but it's the job. Twelve years at the station now, Red Watch. The lads are like brothers.
##
>twins1| The girls turned six yesterday, we had eleven children and a bouncy castle in the garden. I need a week-long nap.
<Happy birthday to them! Remind me of their names?
>twins2| Elsie and June. Identical, except June has a chipped front tooth from the climbing frame, that's how their teacher tells them apart.
##
>coach1| I've somehow become the coach of the under-7s football team. They run in a clump after the ball like pigeons after chips.
<Haha, does Elsie play?
>coach2| Both of them. June scored an own goal on Sunday and celebrated like she'd won the World Cup.
##
>heights| Had to do the annual ladder training this week. Forty-five feet up in a harness. Nobody at the station knows I'm terrified of heights, I just don't look down.
<Wait, a firefighter scared of heights??
>heights2| Don't tell anyone. I'm fine on the ground floor.
##
>watch1| My grandad's watch came back from the repairer. It's the one he got for thirty years on the railways, it hadn't ticked since he died.
<That's lovely. Are you going to wear it?
>watch2| Only on special days. I'm saving it for when the girls are older, one day it's theirs.
##
>fishing1| Took the girls fishing at the reservoir at the weekend. We caught absolutely nothing and June fell in up to her knees. Best day of the summer.
<Haha. Do you fish a lot?
>fishing2| Used to go every Sunday with my grandad. It's the only place my head goes quiet.
##
>wife1| Kirsty got the promotion! She's now deputy head at the primary, which means she's technically the girls' teacher's boss. They think it's hilarious.
<Congrats to her! Is that awkward?
>wife2| Only at parents' evening.
##
>injury| Hurt my shoulder at work on Tuesday, pulling a hose round a corner. I'm on light duties for a month, which means paperwork. I'd rather be on fire.
<Ouch. Hope it's not serious.
##
>coach3| The under-7s won their first match! Four-three. I lost my voice and Elsie scored with her knee.
<Brilliant!! Did June forgive herself for the own goal?
##
>caravan| We've bought an old caravan, it's sitting on the drive and smells like a damp biscuit. Plan is to do it up and take the girls to Wales next summer.
<That sounds like a big project.
>caravan2| I'm good with my hands. Kirsty is good at saying "is that safe".
##
>award| Got a commendation at the station awards night for the flats fire back in spring. They gave me a certificate and a handshake from the chief.
<That's fantastic, you should be proud!
##
>twins3| June lost her first tooth tonight, the chipped one. Now we've got no way to tell them apart, the tooth fairy left a pound and a note.

? single-hop | What is Callum's job? | job1 job2
? single-hop | How long has Callum worked at his station? | job2
? single-hop | What are the names of Callum's daughters? | twins2
? single-hop | How can people tell Callum's twins apart? | twins2
? single-hop | What team does Callum coach? | coach1
? single-hop | What is Callum secretly afraid of? | heights
? single-hop | What was the story behind Callum's grandfather's watch? | watch1
? single-hop | Who will inherit the watch? | watch2
? single-hop | Who taught Callum to fish? | fishing2
? single-hop | What is Callum's wife's new role? | wife1
? single-hop | How did Callum hurt his shoulder? | injury
? single-hop | What was the score of the team's first win? | coach3
? single-hop | What is Callum planning to do with the caravan? | caravan
? single-hop | Why did Callum receive a commendation? | award
? single-hop | What happened to June's chipped tooth? | twins3
? temporal | When did Callum's twins turn six? | twins1
? temporal | When did Callum take his daughters fishing? | fishing1
? temporal | When did Callum injure his shoulder? | injury
? temporal | When did Callum fight the chip pan fire in the flats? | job1
? temporal | When did June lose her tooth? | twins3
? multi-hop | What activities does Callum do with his daughters? | coach1 fishing1 caravan
? multi-hop | How did the fire in the block of flats affect Callum's year? | job1 award
? multi-hop | What things connect Callum to his grandfather? | watch1 fishing2
? multi-hop | How have Callum's twins become harder to tell apart? | twins2 twins3
? multi-hop | How did the under-7s do this season? | coach2 coach3
? open-domain | Would Callum enjoy a hot air balloon ride? | heights heights2
? open-domain | What could Callum do to relax after a stressful shift? | fishing2
? open-domain | Is Callum a sentimental person? | watch1 watch2
? open-domain | Is Callum handy at DIY? | caravan2
? open-domain | What would be a good birthday present for Callum? | fishing2 watch2
"""
