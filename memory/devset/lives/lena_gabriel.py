"""Lena (a vet nurse training for a triathlon) and Gabriel (an accountant who paints)."""

LENA = """
##
>job1| Spent the afternoon holding a very angry tortoise while the vet filed its beak. You haven't lived until a tortoise has hissed at you.
<Haha, wait, tortoises hiss? Where do you work?
>job2| The animal hospital on Mill Road, I'm a vet nurse. Mostly cats and dogs, but Tuesdays are exotics day and anything can come through the door.
##
>kittens1| I've got foster kittens again. Four of them, found in a box behind the chippy, they're the size of potatoes and they scream all night.
<Aww! Are you keeping any?
>kittens2| Absolutely not. That's what I said last time and now I have Moth. Moth is a three-legged tabby who runs the flat.
##
>tri1| I've entered a sprint triathlon in July. I can cycle, I can run, and I swim like a panicking Labrador.
<Haha, so the swimming is the problem?
>tri2| Open water specifically. There's weed and fish and you can't see the bottom. I've booked lessons at the lido.
##
>jonas1| My brother Jonas is being deployed again, six months this time. He can't say where, Mum is pretending she isn't checking the news every hour.
<That must be so hard. Is he in the army?
>jonas2| Royal Engineers, twelve years. He builds bridges, literally. We send him terrible jokes and tea bags.
##
>van1| Bought a van! An old white Transit that used to belong to a plumber. The plan is to turn it into a camper and spend next summer driving round Scotland.
<That's amazing! Can you do the conversion yourself?
>van2| With YouTube and blind optimism. My dad's a retired electrician so he's on wiring duty.
##
>allergy| Ended up in hospital myself at the weekend, they gave me antibiotics for a chest infection and I came out in hives everywhere. Turns out I'm allergic to penicillin.
<Yikes! Are you okay now?
>allergy2| Fine, just blotchy. I've got a bracelet now so nobody gives it to me again.
##
>tri3| Did my first open water swim at the lake yesterday. Panicked for the first fifty metres, then it clicked. I even enjoyed it!
<Yes Lena!!
##
>kittens3| All four kittens went to new homes this week. The last one went to a little girl who named her Pancake. I cried in the car, as is tradition.
<Aww, good job foster mum.
##
>tri4| Finished the triathlon! 1 hour 38. I was second to last out of the water but overtook nineteen people on the bike.
<That's brilliant, well done!
>tri5| Moth was not impressed by my medal. He sat on it.
##
>jonas3| Jonas is home! We met him at the barracks, he's lost loads of weight and grown a ridiculous beard. Mum hasn't let go of his arm.
<That's such good news.
##
>van3| The van has a bed and a tiny stove now. Dad wired in lights that look like stars. I slept in it on the drive last night just because I could.
<Living the dream.
##
>job3| I've started my training to become a senior nurse. Exams in spring. Also a tortoise bit me today, same tortoise, he remembers me.

? single-hop | Where does Lena work? | job2
? single-hop | What happens on Tuesdays at Lena's work? | job2
? single-hop | Where were the foster kittens found? | kittens1
? single-hop | What is special about Lena's cat? | kittens2
? single-hop | Which part of the triathlon worried Lena most? | tri1 tri2
? single-hop | What does Lena's brother do in the army? | jonas2
? single-hop | What does Lena send her brother? | jonas2
? single-hop | Who owned Lena's van before her? | van1
? single-hop | Where does Lena want to drive the van? | van1
? single-hop | Who is helping Lena with the wiring? | van2
? single-hop | What medicine is Lena allergic to? | allergy
? single-hop | What was Lena's triathlon time? | tri4
? single-hop | What did the last kitten get named? | kittens3
? single-hop | How had Jonas changed when he came home? | jonas3
? single-hop | What lights did Lena's dad put in the van? | van3
? temporal | When did Lena find out about her penicillin allergy? | allergy
? temporal | When did Lena first swim in open water? | tri3
? temporal | When did the kittens leave for new homes? | kittens3
? temporal | When did Lena sleep in the van for the first time? | van3
? multi-hop | How did Lena prepare for the triathlon and how did it go? | tri2 tri3 tri4
? multi-hop | What has Lena's father contributed to the van? | van2 van3
? multi-hop | What animals has Lena cared for this year? | job1 kittens1 kittens2
? multi-hop | How long was Jonas away and what was it like for the family? | jonas1 jonas3
? multi-hop | What happened with the tortoise at Lena's work? | job1 job3
? open-domain | Should a doctor prescribe Lena amoxicillin? | allergy allergy2
? open-domain | Would Lena enjoy a road trip holiday? | van1 van3
? open-domain | Is Lena likely to adopt another foster animal eventually? | kittens2 kittens3
? open-domain | Is Lena close to her family? | jonas2 jonas3 van2
? open-domain | Is Lena ambitious in her career? | job3
"""

GABRIEL = """
##
>tax1| It's the end of the tax year so I'm living at my desk. If one more client gives me a shoebox of receipts I'll walk into the sea.
<Haha, you're an accountant?
>tax2| Chartered, fifteen years, small businesses mostly. Bakeries, plumbers, one man who sells antique doorknobs.
##
>paint1| Painted the river at Sonning on Sunday morning, watercolour, the mist was still on the water. It's the only thing that makes me stop counting things.
<I didn't know you painted! How long have you been doing it?
>paint2| Since uni. I keep a little tin of paints in the glovebox. Luis says I'd paint the inside of a car wash if the light was right.
##
>luis1| Luis and I had our first meeting with the adoption agency. Four hours of questions about our childhoods, our finances, our kitchen cupboards.
<That's a big step! How are you feeling?
>luis2| Hopeful and terrified. Luis is a primary school teacher, so at least one of us knows what to do with a child.
##
>fly1| Luis wants to go to Lisbon for our anniversary. I'm going to have to tell him I'd rather take three trains than one plane.
<You don't fly?
>fly2| I haven't got on a plane since 2009. Turbulence over the Alps, a woman praying next to me, never again.
##
>vinyl1| Found a first pressing of Kind of Blue at a car boot sale for four pounds. The man had no idea. I nearly ran.
<Nice find! You collect records?
>vinyl2| Jazz mostly, about six hundred now. The spare room is becoming a shrine, which is a problem because we need it for a child.
##
>luis3| The adoption panel approved us! Actual tears from both of us in the car park, and Luis called his mother before we'd even left.
<Oh that's wonderful news!!
>luis4| Now we wait to be matched. Could be months. We've started painting the spare room yellow, I've moved the records to the loft.
##
>train| We did it, Lisbon by train. Two days, changes in Paris and Madrid, and I read three books. Luis has forgiven me, mostly because of the sleeper carriage.
<Haha, respect. How was Lisbon?
##
>exhibit| Two of my river paintings are in the library's local artists exhibition this month. One has a little red sticker on it, someone bought it!
<Gabriel! You're a professional artist now.
##
>match| We've been matched! A little boy, three years old, he loves diggers and hates socks. We meet him next week, I can't breathe.
<Oh my goodness, that's incredible!!
##
>arlo| Arlo has been home with us for a month. He's started calling Luis "Papa" and me "Gabe", which I'll take.
<That's the best news. How's he settling?
>arlo2| He's obsessed with my old record player, we dance to Coltrane before bath time. Socks are still the enemy.
##
>tax3| I've cut down to four days a week at the firm so I can do nursery pick-up. My boss said fine, my clients said "but who will do my receipts".

? single-hop | What is Gabriel's job? | tax1 tax2
? single-hop | What kind of clients does Gabriel have? | tax2
? single-hop | What medium does Gabriel paint in? | paint1
? single-hop | Where does Gabriel keep his paints? | paint2
? single-hop | What does Luis do for a living? | luis2
? single-hop | Why doesn't Gabriel fly? | fly2
? single-hop | What record did Gabriel find at a car boot sale? | vinyl1
? single-hop | How many records does Gabriel own? | vinyl2
? single-hop | What colour did they paint the child's room? | luis4
? single-hop | How did Gabriel and Luis get to Lisbon? | train
? single-hop | Where were Gabriel's paintings exhibited? | exhibit
? single-hop | What does Arlo love and hate? | match
? single-hop | What does Arlo call Gabriel? | arlo
? single-hop | Why did Gabriel reduce his working hours? | tax3
? single-hop | Where did Gabriel move his record collection? | luis4
? temporal | When did Gabriel paint the river at Sonning? | paint1
? temporal | When did Gabriel last fly? | fly2
? temporal | When were Gabriel and Luis approved by the adoption panel? | luis3
? temporal | When did Gabriel's painting sell? | exhibit
? temporal | When did Gabriel and Luis meet Arlo? | match
? multi-hop | How did the adoption process go for Gabriel and Luis? | luis1 luis3 match arlo
? multi-hop | What happened to the spare room over the year? | vinyl2 luis4
? multi-hop | How did Gabriel's fear affect the anniversary trip? | fly2 train
? multi-hop | How does Gabriel share his music with his son? | vinyl2 arlo2
? multi-hop | How has Gabriel's painting developed? | paint2 exhibit
? open-domain | Would Gabriel accept a free holiday to New York? | fly1 fly2
? open-domain | What would be a good present for Gabriel? | vinyl1 vinyl2
? open-domain | Is Gabriel a good fit for a calm, detailed job? | tax2 paint1
? open-domain | Is Gabriel a family man? | luis2 tax3
? open-domain | Is Arlo a toddler? | match
"""
