"""Rosa (a retired music teacher, 68) and Jamal (a marine biology student)."""

ROSA = """
##
>choir1| Choir practice ran late again, Father Dominic insists we do the Fauré until the sopranos stop going flat. I taught music for thirty-four years, I know a lost cause when I hear one.
<Haha. Thirty-four years! Were you at one school all that time?
>choir2| St Anne's, the whole time. Some of my old pupils now bring their own children to the Christmas concert, which makes me feel about a hundred.
##
>mateo1| My grandson Mateo stayed over on Friday. He's nine and he beat me at chess twice, I let him win the first one, I promise you I did not let him win the second.
<Haha, he sounds sharp. Is he your daughter's boy?
>mateo2| My son Luis's. Luis moved them back from Madrid last year, so now I get Mateo every Friday after school. It's the best day of my week.
##
>hip1| The surgeon has finally given me a date for the new hip. I've been limping around the allotment like a pirate for two years.
<Oh that's good news, are you nervous?
>hip2| A bit. Mostly I'm worried about who will water my runner beans for six weeks.
##
>allot1| The allotment committee gave me the "best kept plot" rosette again. Mr Okafor next door is furious, he's been trying for a decade.
<Haha, rivalry! What do you grow?
>allot2| Beans, courgettes, far too many tomatoes, and dahlias for the church. Nobody needs that many courgettes, I leave them on people's doorsteps at night.
##
>hip3| I'm home! The operation was on Monday and they had me walking with a frame the next morning. The nurses were angels, the food was a crime.
<So glad it went well. Take it easy!
>hip4| Luis has moved into the spare room for the week to keep an eye on me. He makes terrible coffee.
##
>alberto| Twelve years today since Alberto passed. I took the tram up to the cemetery with his favourite yellow roses and told him all about Mateo's chess.
<Oh Rosa, sending love. What was he like?
>alberto2| Loud, stubborn, danced like a windmill. He'd have loved that the boy beats me.
##
>japan1| I've decided. For my seventieth I'm going to Japan, to see the cherry blossom. I've wanted to since I was a girl and saw a postcard of Kyoto.
<That's wonderful! Are you going on your own?
>japan2| With my friend Margaret from choir. She's already bought a phrasebook and a very large hat.
##
>piano| I've started giving piano lessons again, two children on Saturday mornings. I swore I never would, but the house was too quiet.
<That's lovely, you clearly missed it.
##
>walk| Walked to the end of the road and back today without the stick. Slow as a tortoise, but the physio was delighted.
<That's huge, well done!
##
>mateo3| Mateo has started violin at school. It sounds like someone stepping on a cat but I told him it was beautiful, as you do.
<Haha. Did you teach his dad music too?
>mateo4| Luis refused every instrument I put in front of him, he wanted to play football. Music skips a generation, clearly.
##
>japan3| Margaret and I have booked the flights for April. Two weeks, Tokyo, Kyoto and a little town with hot springs. I'm practising bowing in the mirror.
<You'll have the best time!
##
>allot3| First time back on the allotment since the operation. Mr Okafor had kept my beans alive. I might have to let him win the rosette this year.

? single-hop | What did Rosa do before she retired? | choir1
? single-hop | Where did Rosa teach? | choir2
? single-hop | How old is Rosa's grandson? | mateo1
? single-hop | Where did Rosa's son live before? | mateo2
? single-hop | What operation did Rosa need? | hip1
? single-hop | What prize did Rosa's plot win? | allot1
? single-hop | What does Rosa grow? | allot2
? single-hop | Who stayed with Rosa after her surgery? | hip4
? single-hop | What was Rosa's husband like? | alberto2
? single-hop | Where is Rosa travelling for her seventieth birthday? | japan1
? single-hop | Who is Rosa travelling with? | japan2
? single-hop | What does Rosa teach on Saturdays? | piano
? single-hop | What instrument is Mateo learning? | mateo3
? single-hop | What did Luis want to do instead of music as a child? | mateo4
? single-hop | Who looked after Rosa's vegetables while she recovered? | allot3
? temporal | When did Rosa have her hip operation? | hip3
? temporal | When did Rosa visit her husband's grave? | alberto
? temporal | When did Rosa walk without her stick for the first time? | walk
? temporal | When is Rosa's trip to Japan? | japan3
? temporal | When did Mateo beat Rosa at chess? | mateo1
? multi-hop | How did Rosa recover from her surgery? | hip3 hip4 walk
? multi-hop | What is Rosa's relationship with Mr Okafor? | allot1 allot3
? multi-hop | What musical activities does Rosa do in retirement? | choir1 piano
? multi-hop | What does Rosa do with her grandson? | mateo1 mateo3
? multi-hop | How is Rosa planning her Japan trip? | japan1 japan2 japan3
? open-domain | Is Rosa likely a widow? | alberto
? open-domain | Would Rosa enjoy a classical concert? | choir1 choir2
? open-domain | Is Rosa a competitive person? | mateo1 allot1
? open-domain | Does Rosa like living alone in a quiet house? | piano
? open-domain | What should a friend bring Rosa from their garden centre? | allot2
"""

JAMAL = """
##
>phd1| Day 400 of my PhD and the seagrass still won't grow in the tanks. I'm basically a very stressed gardener for plants that live underwater.
<Haha, what's the PhD actually about?
>phd2| How seagrass meadows recover after storms. They store a ridiculous amount of carbon, way more than forests per acre, nobody knows that.
##
>noor1| Noor and I did our long distance movie night again, we pressed play at the same time and still managed to be out of sync by the end.
<Where is she again?
>noor2| Toronto, doing her residency in paediatrics. Five hours behind me, so her dinner is my bedtime. We've done this for two years now.
##
>climb1| Finally got up the orange route at the climbing wall, the one with the overhang that's been mocking me since March. My forearms are dead.
<Nice! How long have you been climbing?
>climb2| About a year. It's the only thing that shuts my brain up, you can't think about your thesis while hanging off a ceiling.
##
>azores1| I'm going to the Azores for fieldwork! Six weeks of diving and counting seagrass shoots. My supervisor finally signed the forms.
<The Azores! That's in the middle of the Atlantic isn't it?
>azores2| Yep, a Portuguese island in the middle of nowhere. I have to get my advanced diving certificate first, the course is next weekend.
##
>vegan1| My mum is doing her famous lamb biryani for Eid and I have to explain again that I don't eat animal anything. She'll make me a "special" one with the lamb picked out.
<Haha. How long have you been vegan?
>vegan2| Four years. I did a lab placement on fisheries and couldn't look at a fish finger again. Then the rest followed.
##
>anxiety1| Had a panic attack before my progress review yesterday. Sat in the toilets doing the breathing thing for ten minutes. The review itself was fine in the end.
<That sounds really rough, I'm glad it went okay.
>anxiety2| My counsellor says I catastrophise. I said that sounds like a disaster. She didn't laugh.
##
>azores3| Back from the Azores with a sunburnt neck and 3,000 photos of grass. We saw a pod of dolphins on the last day, the whole boat screamed.
<Amazing! Did the seagrass behave?
>azores4| The meadow near the harbour had come back after the winter storm, which is exactly what my model predicted. I nearly cried into my snorkel.
##
>noor3| Noor is coming over for three weeks in August! First time we'll have been in the same country since last Christmas.
<Finally! What are you going to do?
>noor4| I'm taking her to the Lake District. She wants to see sheep. Just sheep. That's the whole request.
##
>climb3| Sprained my finger at the wall on Wednesday, a tendon thing. No climbing for a month, my thesis is going to get so much attention.
<Ha, every cloud.
##
>noor5| Asked Noor to marry me at Buttermere, by the water, with a very confused sheep watching. She said yes!!
<JAMAL!! Congratulations!!!
>noor6| We're thinking a small wedding next summer, in Toronto so her grandmother can come.
##
>defence| Thesis submitted! Four years, 212 pages, one nervous breakdown. Viva is in November.
<Dr Jamal incoming!
##
>job| I've been offered a postdoc in Halifax, Nova Scotia, working on eelgrass. It's a short flight from Toronto. It's like the universe heard me.
<That's perfect, you'll finally be near Noor!

? single-hop | What is Jamal's PhD about? | phd1 phd2
? single-hop | Why does Jamal think seagrass matters? | phd2
? single-hop | Where does Jamal's girlfriend live? | noor2
? single-hop | What does Noor do for work? | noor2
? single-hop | What did Jamal finally manage at the climbing wall? | climb1
? single-hop | Why does Jamal like climbing? | climb2
? single-hop | Where did Jamal do his fieldwork? | azores1
? single-hop | What did Jamal need before his fieldwork? | azores2
? single-hop | Why did Jamal become vegan? | vegan2
? single-hop | What did Jamal's mother cook for Eid? | vegan1
? single-hop | What animals did Jamal see on his trip? | azores3
? single-hop | What result did Jamal find in the field? | azores4
? single-hop | Where did Jamal take Noor when she visited? | noor4
? single-hop | Where did Jamal propose? | noor5
? single-hop | How long is Jamal's thesis? | defence
? single-hop | Where is Jamal's new job? | job
? temporal | When did Jamal have a panic attack? | anxiety1
? temporal | When did Jamal take his diving course? | azores2
? temporal | When did Jamal hurt his finger climbing? | climb3
? temporal | When is Jamal's viva? | defence
? temporal | When is Noor visiting? | noor3
? multi-hop | How has Jamal's relationship with Noor developed? | noor2 noor5 noor6
? multi-hop | What did Jamal's Azores trip involve from start to finish? | azores1 azores3
? multi-hop | How does Jamal deal with stress? | climb2 anxiety2
? multi-hop | How will Jamal's new job affect his relationship? | noor2 job
? open-domain | Would Jamal enjoy a seafood restaurant? | vegan1 vegan2
? open-domain | Is Jamal comfortable in the water? | azores1 azores2
? open-domain | Does Jamal struggle with anxiety? | anxiety1 anxiety2
? open-domain | Would Jamal be a good person to ask about climate and the ocean? | phd2
? open-domain | Where might Jamal and Noor live after the wedding? | job noor6
"""
