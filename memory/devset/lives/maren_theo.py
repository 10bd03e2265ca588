"""Maren (a night-shift nurse) and Theo (a history teacher who plays bass)."""

MAREN = """
##
>shift| Sorry I vanished, I've been on six nights in a row at the hospital. By the fourth one you stop being a person and become a vending machine with a lanyard.
<Six?! How is that even legal. Do they at least give you a few days off after?
>off| Three days, which I'll spend asleep with the blackout curtains taped to the window like a vampire.
##
>knee1| Tried to do the stairs at the lighthouse with my cousins yesterday and gave up halfway. My knees have officially retired, nobody asked me.
<Oh no, is that the old netball thing coming back?
>knee2| Yep. The physio says cartilage doesn't grow back, so it's flat ground and swimming for me now. Very glamorous.
##
>dog1| So I did a thing. I put my name down with the retired racing dogs charity last weekend and they called this morning, they have a girl for me.
<WHAT. A racer? Aren't they enormous?
>dog2| All legs and no brain cells, apparently. She's five, she's grey and white, and her racing name was Swift Pepper. We're keeping the Pepper.
##
<How's the new flatmate settling in?
>dog3| Pepper sleeps about twenty hours a day, on MY side of the sofa. She got scared of the kettle though, she bolted into the bathroom and wouldn't come out.
<Poor thing, she's never seen a kitchen before probably.
##
>inky1| My little sister rang at 2am, she's having a baby! Inky is going to be a mum, I can't get my head around it, she still can't boil an egg.
<Inky?? Is that her real name?
>inky2| Ingrid. She got called Inky because she drew on every wall of our house in biro when she was three. Mum never got the stains out.
##
>bread1| The starter survived! I've named him Gregory, he lives in a jar next to the toaster and I feed him flour every morning like a pet.
<You're making your own bread now? Who are you.
>bread2| First loaf came out like a doorstop, second one was actually decent. Nights give you weird hours to fill, kneading dough at 4pm is very calming.
##
>lisbon1| Booked it! Me and my old uni friend Carla are doing a week in Lisbon in the autumn. I'm learning Portuguese on that owl app, I can say "the boy eats an apple" with great confidence.
<Ha. Useful. Will you cope with the hills there? It's all steep streets isn't it?
>lisbon2| The famous yellow trams go up them, I've already planned which ones. I'm not climbing anything.
##
>inky3| She's here!! Inky had the baby on Tuesday, a little girl, Astrid, 7 pounds 2. I drove up straight from the hospital after my shift and cried in the car park.
<Congratulations Auntie Maren!! How's Ingrid doing?
>inky4| Exhausted and very proud of herself. Astrid has a full head of black hair, nobody knows where it came from, we're all blond.
##
>job1| Big news, I've been offered a post at the day surgery unit. No more nights, Monday to Friday, home for dinner like a normal human.
<Finally! Are you taking it?
>job2| Already signed. It's a pay cut, but I'll actually see daylight. Pepper is going to be so confused when I'm home in the evenings.
##
>swim| I've joined the early morning group at the leisure centre pool. Forty lengths before work, my knees don't hurt at all in the water, it's the only exercise that doesn't punish me.
<That's brilliant. I can't swim more than two lengths without swallowing half the pool.
##
>lisbon3| Back from Portugal! Carla and I ate about thirty custard tarts. The owl app did not prepare me for anyone speaking quickly.
<Haha. Best bit?
>lisbon4| A tiny fado bar in Alfama, the singer made the whole room go silent. And we took the little yellow tram everywhere so my knees survived.
##
>astrid| Babysat Astrid for the first time on Saturday. She screamed for an hour and then fell asleep on my chest and I didn't dare move for two hours.
<The classic auntie trap. You'll be doing it every weekend now.
##
>pepper_vet| Pepper had to have three teeth out on Friday. Racing dogs have terrible teeth apparently, too much soft food. She's fine, very dramatic about it though.
<Aww. Is she eating?
>pepper_vet2| Only if I hand-feed her chicken like a queen.

? single-hop | What is Maren's job? | shift
? single-hop | What does Maren do with her time off after a run of night shifts? | off
? single-hop | What is wrong with Maren's knees? | knee1 knee2
? single-hop | What kind of dog did Maren adopt? | dog1 dog2
? single-hop | What is the name of Maren's dog? | dog2
? single-hop | What frightened Maren's dog? | dog3
? single-hop | Why is Maren's sister called Inky? | inky2
? single-hop | What did Maren call her sourdough starter? | bread1
? single-hop | Who did Maren travel to Lisbon with? | lisbon1
? single-hop | What language is Maren learning and how? | lisbon1
? single-hop | What is the name of Maren's niece? | inky3
? single-hop | What does the baby look like? | inky4
? single-hop | What new position did Maren accept? | job1 job2
? single-hop | What did Maren give up by taking the new position? | job2
? single-hop | What exercise does Maren do now? | swim
? single-hop | What was Maren's favourite part of the Portugal trip? | lisbon4
? single-hop | Why did Maren's dog need surgery? | pepper_vet
? temporal | When did Maren give up on the lighthouse stairs? | knee1
? temporal | When did Maren apply to adopt a retired racing dog? | dog1
? temporal | When was Maren's niece born? | inky3
? temporal | When did Maren first look after Astrid alone? | astrid
? temporal | When did Pepper have her teeth removed? | pepper_vet
? multi-hop | What pets or pet-like things does Maren look after? | bread1 dog2
? multi-hop | How has Maren changed her life to cope with her knees? | knee2 swim lisbon4
? multi-hop | How did Maren's working hours change over the year? | shift job1
? multi-hop | What has Maren done with her family this year? | knee1 inky3 astrid
? multi-hop | How does Pepper's racing past affect her at home? | dog3 pepper_vet
? open-domain | Would Maren enjoy a mountain hiking holiday? | knee1 knee2
? open-domain | Is Maren likely to be a morning person now? | job1 swim
? open-domain | What would be a good gift for Maren's dog? | pepper_vet2 dog3
? open-domain | Does Maren have a good relationship with her sister? | inky3 astrid
? open-domain | What would be a thoughtful present for Maren's kitchen? | bread1 bread2
"""

THEO = """
##
>job1| Marking forty essays on the causes of the First World War tonight. Year 10 have decided Franz Ferdinand was "basically asking for it".
<Haha, teenagers are brutal. Do you actually enjoy teaching them?
>job2| Honestly yes, even the ones who sleep through it. Every now and then one of them gets into the Romans and it's the best feeling.
##
>band1| We've got a gig on Saturday at the Crown, come! We're doing mostly 90s stuff, Oasis, Blur, that kind of thing.
<Wait, you're in a band? Since when?
>band2| Since forever, I play bass in The Late Fees. We're all teachers or librarians, hence the name. Nobody dances until the third pint.
##
>house1| Sam and I got the keys to the house! It's a 1920s terrace with original tiles in the hallway and absolutely no working radiators.
<Congratulations!! Is Sam as excited as you?
>house2| He's an architect so he's already drawn up three plans for the kitchen. I just want a shower that isn't cold.
##
>allergy1| Went to Sam's work do and nearly ended up in A&E, the canapés had prawns hidden in them. My lips went like a cartoon.
<Oh god, you're allergic to prawns?
>allergy2| All shellfish. I carry two EpiPens everywhere now, Sam made me promise after the crab incident of 2019.
##
>run1| I've signed up for the Bristol half marathon in September. I've never run more than 5k in my life so this will be interesting.
<Brave man. Are you following a plan?
>run2| One of those apps that shouts at you. Three runs a week, long one on Sundays. My calves already hate me.
##
>house3| We took down the plasterboard in the back bedroom yesterday and found newspapers from 1936 stuffed in the wall as insulation. Adverts for corsets and liver pills!
<That's amazing, keep them!
>house4| I'm going to frame the front page for my classroom. The kids won't believe people read that much small print.
##
>foodbank| Did my Saturday shift at the food bank again. We had a record number of families this week, it's grim out there.
<That's good of you. How long have you volunteered there?
>foodbank2| About two years now. I do the sorting and the van on alternate weeks.
##
>run3| Bad news on the running front. The physio says it's shin splints, no running for six weeks. I'm out of the half.
<Ah no! After all that training.
>run4| I'll defer to next year. Meanwhile I'm allowed to cycle, so I've been doing the canal path on Sam's old bike.
##
>dad1| Dad turns seventy next month, we're all going down to Cornwall, the whole family in one cottage. Pray for us.
<Ha. Where in Cornwall?
>dad2| St Ives. He grew up there and wants to see the harbour again. My sister is in charge of the cake, I'm in charge of the playlist.
##
>band3| The Late Fees got booked for a wedding! Actual money! The bride wants "Wonderwall" for the first dance, I've made my peace with it.
<Haha, that's amazing. When's the wedding?
>band4| Last weekend of June, in a barn near Frome. I need to buy a shirt that isn't covered in chalk.
##
>dad3| Cornwall was lovely. Dad cried at the harbour, then got us all lost on the coast path looking for a pub he swore was still there. It was a Costa now.
<Haha, poor man. Did the cake survive?
##
>house5| The kitchen is finally done. Sam won the argument about the green tiles, and I have to admit they look great.
<Photos please!
>house6| Sending them. We had our first proper dinner at the table last night, just pasta but it felt like a palace.
##
>school| Got asked to be head of the history department from January. More meetings, fewer lessons. Not sure how I feel.
<Congrats though! That's a big deal.

? single-hop | What subject does Theo teach? | job1
? single-hop | What instrument does Theo play? | band2
? single-hop | What is the name of Theo's band and why? | band2
? single-hop | What kind of songs does Theo's band play? | band1
? single-hop | What is Theo's partner's profession? | house2
? single-hop | How old is Theo's new home? | house1
? single-hop | What is Theo allergic to? | allergy1 allergy2
? single-hop | What did Theo find hidden in the bedroom wall? | house3
? single-hop | What will Theo do with the old newspaper? | house4
? single-hop | How long has Theo volunteered at the food bank? | foodbank2
? single-hop | What injury stopped Theo's race plans? | run3
? single-hop | Which race did Theo enter? | run1
? single-hop | Where is Theo's father from? | dad2
? single-hop | What song will Theo's band play for the first dance? | band3
? single-hop | What colour tiles did they choose for the kitchen? | house5
? single-hop | What promotion was Theo offered? | school
? single-hop | What is Theo responsible for at the birthday trip? | dad2
? temporal | When did Theo have an allergic reaction at Sam's work party? | allergy1
? temporal | When did Theo find the old newspapers? | house3
? temporal | When is the wedding that Theo's band plays at? | band4
? temporal | When did Theo and Sam eat their first dinner in the new kitchen? | house6
? multi-hop | What does Theo do on Saturdays? | band1 foodbank
? multi-hop | What exercise has Theo done this year? | run2 run4
? multi-hop | How has the renovation of Theo's house progressed? | house1 house3 house5
? multi-hop | What did the family do for Theo's dad's birthday? | dad1 dad3
? multi-hop | What gigs has Theo's band played or been booked for? | band1 band3
? open-domain | Should Theo order the seafood paella at a restaurant? | allergy2
? open-domain | Is Theo likely to enjoy a visit to a history museum? | job2 house4
? open-domain | Would Theo be a good person to ask about fixing up an old house? | house1 house3
? open-domain | Does Theo care about his community? | foodbank foodbank2
? open-domain | Is Theo likely to run the half marathon next year? | run4
"""
